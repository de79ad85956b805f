"""deploy/k8s renders with kustomize, validates against the Kubernetes schemas, runs every process."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from shared.health import health_routes
from shared.settings import Settings
from tests.deploy.artifacts import (
    EXPECTED_PROCESSES,
    K8S,
    OVERLAYS,
    containers,
    kubectl,
    kubernetes_errors,
    of_kind,
    render,
)

pytestmark = pytest.mark.skipif(
    kubectl() is None, reason="kubectl is not installed: the manifests cannot be rendered"
)

HEALTH_PATHS = {route.path for route in health_routes({})}
# (overlay name, the objects it renders)
Rendered = tuple[str, list[dict[str, Any]]]


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> Rendered:
    return request.param, render(K8S / "overlays" / request.param)


def test_each_overlay_validates_against_the_kubernetes_schemas(rendered: Rendered) -> None:
    overlay, objects = rendered
    assert objects, f"{overlay} rendered nothing"
    assert kubernetes_errors(objects) == []


def test_each_overlay_runs_every_process_with_a_service_and_a_disruption_budget(
    rendered: Rendered,
) -> None:
    _, objects = rendered
    for kind in ("Deployment", "Service", "PodDisruptionBudget"):
        names = set(of_kind(objects, kind))
        assert names == {f"accord-{process}" for process in EXPECTED_PROCESSES}, kind
    served = {container["args"][1] for _, container in containers(objects)}
    assert served == EXPECTED_PROCESSES


def test_only_the_gateway_and_the_projector_autoscale_on_autoscaling_v2(rendered: Rendered) -> None:
    _, objects = rendered
    autoscalers = of_kind(objects, "HorizontalPodAutoscaler")
    assert {hpa["spec"]["scaleTargetRef"]["name"] for hpa in autoscalers.values()} == {
        "accord-gateway",
        "accord-projector",
    }
    assert all(hpa["apiVersion"] == "autoscaling/v2" for hpa in autoscalers.values())
    deployments = of_kind(objects, "Deployment")
    for hpa in autoscalers.values():
        # A replica count in the Deployment would fight the autoscaler on every apply.
        assert "replicas" not in deployments[hpa["spec"]["scaleTargetRef"]["name"]]["spec"]
        assert hpa["spec"]["minReplicas"] >= 1
        assert hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]


def test_every_container_probes_the_health_endpoints_the_processes_serve(
    rendered: Rendered,
) -> None:
    _, objects = rendered
    config = next(iter(of_kind(objects, "ConfigMap").values()))["data"]
    for deployment, container in containers(objects):
        ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        assert ports["http"] == int(config["ACCORD_PORT"]), deployment
        probes = {
            kind: container[kind]["httpGet"]
            for kind in ("startupProbe", "livenessProbe", "readinessProbe")
        }
        assert probes["readinessProbe"]["path"] == "/readyz", deployment
        assert probes["livenessProbe"]["path"] == "/healthz", deployment
        for probe in probes.values():
            assert probe["path"] in HEALTH_PATHS, deployment
            assert probe["port"] in ports, deployment


def test_every_container_has_resource_requests_and_limits_and_runs_unprivileged(
    rendered: Rendered,
) -> None:
    _, objects = rendered
    for name, deployment in of_kind(objects, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        for container in pod["containers"]:
            for bound in ("requests", "limits"):
                assert set(container["resources"][bound]) == {"cpu", "memory"}, name
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, name


def test_secrets_are_referenced_never_committed(rendered: Rendered) -> None:
    _, objects = rendered
    assert of_kind(objects, "Secret") == {}
    for deployment, container in containers(objects):
        secret_refs = {s["secretRef"]["name"] for s in container["envFrom"] if "secretRef" in s}
        assert secret_refs == {"accord-secrets"}, deployment


def test_files_named_by_settings_are_mounted_in_every_container(rendered: Rendered) -> None:
    _, objects = rendered
    config = next(iter(of_kind(objects, "ConfigMap").values()))["data"]
    files = [value for key, value in config.items() if key.endswith("_FILE")]
    for deployment, container in containers(objects):
        mounts = [mount["mountPath"] for mount in container.get("volumeMounts", [])]
        for file in files:
            assert any(file.startswith(mount.rstrip("/") + "/") for mount in mounts), (
                f"{deployment} reads {file} but mounts only {mounts}"
            )


def test_network_policies_admit_only_the_gateway_to_the_services_and_nobody_to_the_projector(
    rendered: Rendered,
) -> None:
    _, objects = rendered
    policies = list(of_kind(objects, "NetworkPolicy").values())
    deployments = of_kind(objects, "Deployment")

    def selected(policy: dict[str, Any], labels: dict[str, str]) -> bool:
        selector = policy["spec"]["podSelector"]
        if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
            return False
        for expression in selector.get("matchExpressions", []):
            assert expression["operator"] == "In", "extend this test for other operators"
            if labels.get(expression["key"]) not in expression["values"]:
                return False
        return True

    for name, deployment in deployments.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        governing = [policy for policy in policies if selected(policy, labels)]
        assert governing, f"no NetworkPolicy selects {name}"
        rules = [rule for policy in governing for rule in policy["spec"].get("ingress", [])]
        process = labels["app.kubernetes.io/name"]
        if process == "projector":
            assert rules == [], "the projector takes no inbound traffic"
        elif process != "gateway":
            sources = [peer for rule in rules for peer in rule.get("from", [])]
            assert rules and all("from" in rule for rule in rules), name
            assert sources == [
                {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}}
            ]


def test_the_overlays_differ_in_namespace_image_and_configuration() -> None:
    dev, prod = (render(K8S / "overlays" / overlay) for overlay in OVERLAYS)

    def summary(objects: list[dict[str, Any]]) -> tuple[set[str], set[str], dict[str, str]]:
        namespaces = {obj["metadata"].get("namespace", "") for obj in objects} - {""}
        images = {container["image"] for _, container in containers(objects)}
        config = next(iter(of_kind(objects, "ConfigMap").values()))["data"]
        return namespaces, images, config

    dev_namespaces, dev_images, dev_config = summary(dev)
    prod_namespaces, prod_images, prod_config = summary(prod)
    assert len(dev_namespaces) == len(prod_namespaces) == 1
    assert dev_namespaces != prod_namespaces
    assert len(dev_images) == len(prod_images) == 1
    assert dev_images != prod_images
    assert dev_config != prod_config


def test_production_serves_neither_the_graphql_ide_nor_introspection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As docs/operations.md says: the prod overlay's configuration, read by the settings the
    processes use, turns both off (the dev overlay leaves them on)."""
    for overlay, expected in (("prod", False), ("dev", True)):
        config = next(iter(of_kind(render(K8S / "overlays" / overlay), "ConfigMap").values()))
        for key, value in config["data"].items():
            monkeypatch.setenv(key, value)
        settings = Settings()
        assert (settings.graphql_ide, settings.graphql_introspection) == (expected, expected)
        for key in config["data"]:
            monkeypatch.delenv(key)


# ---- the check can fail ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "broken", "complaint"),
    [
        ("readinessProbe:", "readinesProbe:", "readinesProbe"),
        ("containerPort: 8000", "containerPort: eight-thousand", "eight-thousand"),
    ],
    ids=["typo in a field name", "wrong type of a value"],
)
def test_a_broken_manifest_fails_validation(
    tmp_path: Path, original: str, broken: str, complaint: str
) -> None:
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy)
    gateway = copy / "base" / "gateway.yaml"
    text = gateway.read_text()
    assert original in text
    gateway.write_text(text.replace(original, broken, 1))
    problems = kubernetes_errors(render(copy / "overlays" / "prod"))
    assert any("Deployment/accord-gateway" in p and complaint in p for p in problems), problems


def test_an_object_of_an_unknown_api_fails_validation() -> None:
    problems = kubernetes_errors(
        [
            {
                "apiVersion": "autoscaling/v9",
                "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": "x"},
            }
        ]
    )
    assert problems and "HorizontalPodAutoscaler/x" in problems[0]
