"""The image, compose and the manifests name only commands the CLI has and settings the code reads."""

from __future__ import annotations

import json
import tomllib

import pytest

from accord.processes import Process
from shared.settings import Settings, url_from_postgres_variables
from tests.deploy.artifacts import (
    ENV_EXAMPLE,
    EXPECTED_PROCESSES,
    K8S,
    OVERLAYS,
    ROOT,
    STANDARD_VARIABLES,
    accord_services,
    compose_variables,
    containers,
    dockerfile_env,
    dockerfile_stages,
    env_file_variables,
    invocation_problem,
    kubectl,
    load_compose,
    manifest_variables,
    render,
    settings_variables,
    unknown_variables,
)

needs_kubectl = pytest.mark.skipif(
    kubectl() is None, reason="kubectl is not installed: the manifests cannot be rendered"
)

STAGES = dockerfile_stages()
FINAL = STAGES[-1]


def instruction(name: str) -> str:
    found = [arguments for keyword, arguments in FINAL if keyword == name]
    assert found, f"the final stage has no {name}"
    return found[-1]


# ---- the image ------------------------------------------------------------------------------


def test_the_image_entrypoint_is_the_accord_console_script() -> None:
    assert json.loads(instruction("ENTRYPOINT")) == ["accord"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["accord"] == "accord.cli:main"


def test_the_image_default_command_serves_the_gateway_on_the_exposed_port() -> None:
    command = json.loads(instruction("CMD"))
    assert command == ["serve", "gateway"]
    assert invocation_problem(command) is None
    env = dockerfile_env(FINAL)
    assert env["ACCORD_HOST"] == "0.0.0.0"
    assert instruction("EXPOSE") == env["ACCORD_PORT"] == str(Settings.model_fields["port"].default)


def test_the_image_builds_in_stages_and_runs_without_build_tools_as_a_non_root_user() -> None:
    assert len(STAGES) >= 2
    assert instruction("USER").split(":")[0] not in {"root", "0"}
    runs = " ".join(arguments for keyword, arguments in FINAL if keyword == "RUN")
    for tool in ("build-essential", "gcc", "apt-get install"):
        assert tool not in runs
    assert "--no-index" in runs, "the final stage installs only the builder's wheels"


# ---- commands -------------------------------------------------------------------------------


def test_the_cli_refuses_an_unknown_command_or_process_so_these_checks_can_fail() -> None:
    assert invocation_problem(["serve", "gatewai"]) is not None
    assert invocation_problem(["sreve", "gateway"]) is not None
    assert invocation_problem(["serve", "gateway", "--no-such-option"]) is not None
    assert invocation_problem(["asyncapi", "--write"]) is None


def test_projector_is_the_only_process_the_deployments_run_ahead_of_the_code() -> None:
    assert EXPECTED_PROCESSES - {process.value for process in Process} <= {"projector"}


def test_every_compose_command_is_an_accord_command() -> None:
    for name, service in accord_services(load_compose()).items():
        assert invocation_problem(service["command"]) is None, name


@needs_kubectl
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_manifest_command_is_an_accord_command(overlay: str) -> None:
    for deployment, container in containers(render(K8S / "overlays" / overlay)):
        # No `command`: the image's ENTRYPOINT (`accord`) runs the args.
        assert "command" not in container, deployment
        assert invocation_problem(container["args"]) is None, deployment


# ---- environment variables ------------------------------------------------------------------


def test_the_known_variables_come_from_the_settings_model() -> None:
    known = settings_variables()
    assert {"DATABASE_URL", "ACCORD_KAFKA_BOOTSTRAP", "ACCORD_JWT_JWKS_FILE"} <= known
    assert "ACCORD_DATABASE_URL" not in known, "DATABASE_URL is an alias, read without prefix"
    assert unknown_variables({"ACCORD_KAFKA_BOOTSTRAPS": "a typo"}) == {
        "ACCORD_KAFKA_BOOTSTRAPS": "a typo"
    }


@pytest.mark.parametrize("name", sorted(v for v in STANDARD_VARIABLES if v.startswith("POSTGRES_")))
def test_each_allowed_postgres_variable_is_honoured_by_the_settings(name: str) -> None:
    environ = {"POSTGRES_HOST": "db.internal", name: "sentinel"}
    if name == "POSTGRES_PORT":
        environ[name] = "6543"
    url = url_from_postgres_variables(environ)
    assert environ[name] in url, url


def test_every_variable_of_the_env_example_is_a_setting() -> None:
    named = {name: ENV_EXAMPLE.name for name in env_file_variables(ENV_EXAMPLE)}
    assert named
    assert unknown_variables(named) == {}


def test_every_variable_the_compose_processes_get_is_a_setting() -> None:
    named = compose_variables(load_compose())
    assert "ACCORD_KAFKA_BOOTSTRAP" in named
    assert unknown_variables(named) == {}


def test_every_variable_of_the_image_is_a_setting_or_standard() -> None:
    assert unknown_variables(dict.fromkeys(dockerfile_env(FINAL), "Dockerfile")) == {}


@needs_kubectl
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_variable_the_manifests_set_is_a_setting(overlay: str) -> None:
    named = manifest_variables(render(K8S / "overlays" / overlay))
    assert "ACCORD_KAFKA_BOOTSTRAP" in named
    assert unknown_variables(named) == {}
