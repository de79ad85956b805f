"""Reading the deployment artifacts the way their tools do, offline: kustomize, schemas, CLI."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import typer.main
import yaml
from pydantic import AliasChoices, AliasPath
from pydantic_settings import BaseSettings

import accord.cli
from accord.processes import Process
from shared.schemas import registry
from shared.schemas.registry import ContractSpec

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
# The kubectl on this machine is v1.32; validate against the same API version.
KUBERNETES_VERSION = "1.32.0"

# `accord serve projector` arrives with the gateway issue; compose and the manifests run it
# already. Once Process has a projector member this union changes nothing.
EXPECTED_PROCESSES = {process.value for process in Process} | {"projector"}

# Variables that are not Accord settings but are read by what runs in the image.
STANDARD_VARIABLES = {
    # shared.settings.url_from_postgres_variables, when DATABASE_URL is absent.
    "POSTGRES_HOST",
    "POSTGRES_PORT",
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_DB",
    # The Python interpreter and pip in the image.
    "PYTHONUNBUFFERED",
    "PYTHONDONTWRITEBYTECODE",
    "PIP_NO_CACHE_DIR",
    "PIP_DISABLE_PIP_VERSION_CHECK",
}
# OpenTelemetry reads every OTEL_* variable itself (shared/telemetry.py, the SDK, exporters).
STANDARD_PREFIXES = ("OTEL_",)


def published_contracts() -> list[ContractSpec]:
    """The contracts the product registers: other tests add test-only ones (tests/support)."""
    return [spec for spec in registry if not spec.model.__module__.startswith("tests.")]


# ---- Kubernetes -----------------------------------------------------------------------------


def kubectl() -> str | None:
    return shutil.which("kubectl")


def render(overlay: Path) -> list[dict[str, Any]]:
    """The objects `kubectl kustomize` renders for an overlay (or base) directory."""
    binary = kubectl()
    assert binary is not None, "kubectl is not installed"
    result = subprocess.run(
        [binary, "kustomize", str(overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"kubectl kustomize {overlay} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def kubernetes_errors(objects: Iterable[dict[str, Any]]) -> list[str]:
    """Every object checked against the Kubernetes OpenAPI schemas (strict: no unknown fields)."""
    problems = []
    for obj in objects:
        name = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(part) for part in error.path)
            problems.append(f"{name}: {path}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            # An unknown kind or apiVersion is a broken manifest too, not something to skip.
            problems.append(f"{name}: {error.message}")
    return problems


def of_kind(objects: Iterable[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def containers(objects: Iterable[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(Deployment name, container) for every container of every Deployment."""
    for name, deployment in of_kind(objects, "Deployment").items():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            yield name, container


def manifest_variables(objects: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Every environment variable the manifests set, with where it is set."""
    config_maps = of_kind(objects, "ConfigMap")
    found: dict[str, str] = {}
    for deployment, container in containers(objects):
        for variable in container.get("env", []):
            found[variable["name"]] = f"Deployment/{deployment} env"
        for source in container.get("envFrom", []):
            ref = source.get("configMapRef")
            if ref:
                for key in config_maps[ref["name"]].get("data", {}):
                    found[key] = f"ConfigMap/{ref['name']}"
    return found


# ---- Compose --------------------------------------------------------------------------------


def load_compose(path: Path = COMPOSE) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    return document


@cache
def compose_schema() -> dict[str, Any]:
    """The Compose specification's JSON Schema that check-jsonschema vendors (no network)."""
    vendor = files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads((vendor / "compose-spec.json").read_text())
    return schema


def compose_errors(document: dict[str, Any]) -> list[str]:
    validator_class = jsonschema.validators.validator_for(compose_schema())
    validator = validator_class(compose_schema(), format_checker=validator_class.FORMAT_CHECKER)
    return [
        f"{'.'.join(str(part) for part in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def accord_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The compose services that run the Accord image (built from this repository)."""
    return {
        name: service
        for name, service in compose["services"].items()
        if "build" in service or str(service.get("image", "")).startswith("accord:")
    }


def env_file_paths(service: dict[str, Any]) -> list[Path]:
    """The env files a service must have: the committed ones (an optional `.env` is local)."""
    entries = service.get("env_file", [])
    if isinstance(entries, str):
        entries = [entries]
    return [
        ROOT / (entry if isinstance(entry, str) else entry["path"])
        for entry in entries
        if isinstance(entry, str) or entry.get("required", True)
    ]


_ASSIGNMENT = re.compile(r"^\s*#?\s*([A-Za-z_][A-Za-z0-9_]*)=")


def env_file_variables(path: Path) -> set[str]:
    """Names assigned in an env file, including the commented-out alternatives it offers."""
    return {m.group(1) for line in path.read_text().splitlines() if (m := _ASSIGNMENT.match(line))}


def compose_variables(compose: dict[str, Any]) -> dict[str, str]:
    """Every variable the Accord containers of compose are given, with where it is named."""
    found: dict[str, str] = {}
    for name, service in accord_services(compose).items():
        environment = service.get("environment", {})
        keys = (
            environment if isinstance(environment, dict) else [e.split("=")[0] for e in environment]
        )
        for key in keys:
            found[key] = f"compose service {name}"
        for path in env_file_paths(service):
            for key in env_file_variables(path):
                found[key] = path.name
    return found


# ---- Dockerfile -----------------------------------------------------------------------------


def dockerfile_stages(path: Path = DOCKERFILE) -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions, (KEYWORD, arguments), split into stages at each FROM."""
    logical: list[str] = []
    pending = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    stages: list[list[tuple[str, str]]] = []
    for instruction in logical:
        keyword, _, arguments = instruction.partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((keyword.upper(), arguments.strip()))
    return stages


def dockerfile_env(instructions: Iterable[tuple[str, str]]) -> dict[str, str]:
    found = {}
    for keyword, arguments in instructions:
        if keyword == "ENV":
            for pair in arguments.split():
                key, _, value = pair.partition("=")
                found[key] = value
    return found


# ---- Settings and the CLI -------------------------------------------------------------------


def settings_models() -> list[type[BaseSettings]]:
    """Every settings model the processes define: shared's, and any a service adds."""
    found: list[type[BaseSettings]] = []
    pending: list[type[BaseSettings]] = list(BaseSettings.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if model.__module__.split(".")[0] in {"shared", "services", "accord"}:
            found.append(model)
    return found


def settings_variables() -> set[str]:
    """The environment variables the settings models read: prefixed field names and aliases."""
    names: set[str] = set()
    for model in settings_models():
        prefix = str(model.model_config.get("env_prefix", ""))
        for field_name, field in model.model_fields.items():
            alias = field.validation_alias
            if alias is None:
                names.add(f"{prefix}{field_name}".upper())
            elif isinstance(alias, str):
                names.add(alias.upper())
            elif isinstance(alias, AliasChoices):
                for choice in alias.choices:
                    first = choice if isinstance(choice, str) else choice.path[0]
                    names.add(str(first).upper())
            elif isinstance(alias, AliasPath):
                names.add(str(alias.path[0]).upper())
    return names


def unknown_variables(named: dict[str, str]) -> dict[str, str]:
    known = settings_variables() | STANDARD_VARIABLES
    return {
        name: where
        for name, where in named.items()
        if name not in known and not name.startswith(STANDARD_PREFIXES)
    }


def invocation_problem(args: Sequence[str]) -> str | None:
    """Why `accord <args>` would not parse, or None when the CLI accepts it."""
    args = list(args)
    if len(args) >= 2 and args[0] == "serve" and args[1] not in {p.value for p in Process}:
        if args[1] not in EXPECTED_PROCESSES:
            return f"{args[1]!r} is not an Accord process"
        # A process the deployment runs ahead of the code: parse the rest with a real one.
        args[1] = next(iter(Process)).value
    group = typer.main.get_group(accord.cli.app)
    context = group.context_class(group, info_name="accord")
    try:
        name, command, rest = group.resolve_command(context, args)
        assert command is not None and name is not None
        command.make_context(name, rest, parent=context)
    except Exception as error:  # the CLI's own usage errors, whatever click it vendors
        return f"accord {' '.join(args)}: {error}"
    return None
