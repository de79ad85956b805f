"""docker-compose.yml is a valid Compose file that runs the full stack in a working order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.health import health_routes
from tests.deploy.artifacts import (
    COMPOSE,
    EXPECTED_PROCESSES,
    accord_services,
    compose_errors,
    env_file_paths,
    env_file_variables,
    load_compose,
    published_contracts,
)

COMPOSE_DOC = load_compose()
SERVICES = COMPOSE_DOC["services"]


def test_the_compose_file_validates_against_the_compose_specification() -> None:
    assert compose_errors(COMPOSE_DOC) == []


def test_every_accord_process_runs_from_the_one_image() -> None:
    accord = accord_services(COMPOSE_DOC)
    assert {service["command"][1] for service in accord.values()} == EXPECTED_PROCESSES
    assert all(service["command"][0] == "serve" for service in accord.values())
    assert len({service["image"] for service in accord.values()}) == 1
    assert all(service["build"]["context"] == "." for service in accord.values())


def test_every_accord_process_waits_for_healthy_postgres_and_kafka_and_the_topics() -> None:
    for name, service in accord_services(COMPOSE_DOC).items():
        assert service["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "kafka": {"condition": "service_healthy"},
            "kafka-init": {"condition": "service_completed_successfully"},
        }, name


def test_every_service_with_dependants_has_a_health_check() -> None:
    for name, service in SERVICES.items():
        for dependency, condition in service.get("depends_on", {}).items():
            if condition["condition"] == "service_healthy":
                assert "test" in SERVICES[dependency].get("healthcheck", {}), (name, dependency)
    assert "pg_isready" in " ".join(SERVICES["postgres"]["healthcheck"]["test"])


def test_the_accord_health_checks_call_an_endpoint_the_processes_serve() -> None:
    paths = {route.path for route in health_routes({})}
    for name, service in accord_services(COMPOSE_DOC).items():
        probe = " ".join(service["healthcheck"]["test"])
        called = re.findall(r"http://127\.0\.0\.1:8000(/\w+)", probe)
        assert called and set(called) <= paths, (name, probe)


def test_only_the_gateway_is_published_among_the_accord_processes() -> None:
    published = {name for name, s in accord_services(COMPOSE_DOC).items() if s.get("ports")}
    assert published == {"gateway"}


def test_postgres_and_kafka_keep_their_data_in_named_volumes() -> None:
    for name, target in (
        ("postgres", "/var/lib/postgresql/data"),
        ("kafka", "/var/lib/kafka/data"),
    ):
        volumes = SERVICES[name]["volumes"]
        assert any(
            v.endswith(f":{target}") and v.split(":")[0] in COMPOSE_DOC["volumes"] for v in volumes
        )
    assert SERVICES["kafka"]["image"].startswith("apache/kafka:")
    assert SERVICES["postgres"]["image"].startswith("postgres:")


def test_kafka_runs_in_kraft_mode_and_keeps_everything() -> None:
    environment = SERVICES["kafka"]["environment"]
    assert environment["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert environment["KAFKA_LOG_RETENTION_MS"] == "-1"
    assert environment["KAFKA_LOG_RETENTION_BYTES"] == "-1"


def test_the_init_service_creates_every_published_topic_with_unlimited_retention() -> None:
    script = "\n".join(SERVICES["kafka-init"]["command"])
    loop = re.search(r"for topic in ([^;]+);", script)
    assert loop, script
    created = set(loop.group(1).split())
    published = {spec.topic for spec in published_contracts()}
    assert published <= created, f"topics without an init: {published - created}"
    assert {
        f"accord.{process}.v1" for process in ("elicitation", "ranking", "notifications")
    } <= created
    assert "--config retention.ms=-1" in script and "--config retention.bytes=-1" in script


def test_the_env_files_exist_and_give_postgres_its_required_password() -> None:
    for name, service in SERVICES.items():
        for path in env_file_paths(service):
            assert path.exists(), f"{name} needs {path}"
    postgres_env = set().union(
        *(env_file_variables(p) for p in env_file_paths(SERVICES["postgres"]))
    )
    assert {"POSTGRES_PASSWORD", "POSTGRES_USER", "POSTGRES_DB"} <= postgres_env


# ---- the check can fail ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "broken", "complaint"),
    [
        (
            '    healthcheck:\n      test: ["CMD-SHELL", "pg_isready',
            '    helthcheck:\n      test: ["CMD-SHELL", "pg_isready',
            "helthcheck",
        ),
        ("condition: service_healthy", "condition: service_heathy", "depends_on"),
    ],
    ids=["typo in a key", "unknown depends_on condition"],
)
def test_a_broken_compose_file_fails_validation(
    tmp_path: Path, original: str, broken: str, complaint: str
) -> None:
    text = COMPOSE.read_text()
    assert original in text
    copy = tmp_path / "docker-compose.yml"
    copy.write_text(text.replace(original, broken, 1))
    problems = compose_errors(load_compose(copy))
    assert any(complaint in problem for problem in problems), problems
