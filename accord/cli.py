"""The `accord` command line."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from accord.audit import app as audit_app
from accord.infra.__main__ import app as infra_app
from accord.process_names import Process
from shared.auth import mint_token
from shared.settings import InvalidSettings, get_settings

# The commands that run Accord import the services when they run: every service takes seconds
# to import, which `accord token` and `accord --help` need not wait for.

app = typer.Typer(help="Accord: client expectations in service contracts.", no_args_is_help=True)


def main() -> None:
    """The `accord` command: a setting the environment got wrong is one line, not a trace."""
    try:
        app(prog_name="accord")
    except InvalidSettings as wrong:
        typer.echo(f"SETTINGS_INVALID: {wrong}", err=True)
        raise SystemExit(2) from None


app.add_typer(infra_app, name="infra", help="Real PostgreSQL and Kafka on this machine.")
app.add_typer(audit_app, name="audit", help="Tamper evidence: verify, checkpoint, prove.")


@app.command()
def dev(
    demo: Annotated[
        bool, typer.Option("--demo", help="Load the demo contract once started.")
    ] = False,
    port: Annotated[int | None, typer.Option(help="Port (default ACCORD_PORT, else 8000).")] = None,
) -> None:
    """Run everything in one process: embedded PostgreSQL, in-process bus, GraphQL."""
    from accord import embedded
    from shared import collector

    settings = get_settings()
    if port is not None:
        settings = settings.model_copy(update={"port": port})
    try:
        embedded.run(settings, demo=demo)
    finally:
        collector.spare_the_exit()


@app.command()
def serve(
    process: Annotated[Process, typer.Argument(help="Which process to run.")],
    port: Annotated[int | None, typer.Option(help="Port (default ACCORD_PORT).")] = None,
) -> None:
    """Run one process on its own, as in the full stack (Kafka and PostgreSQL named by env)."""
    import uvicorn

    from accord.processes import create_app
    from accord.reachable import Unreachable, wait_until_reachable
    from shared import collector
    from shared.bus_kafka import KafkaAccess, KafkaBus
    from shared.logs import configure_logging
    from shared.telemetry import configure_telemetry

    settings = get_settings()
    if not settings.database_url:
        raise typer.BadParameter("set DATABASE_URL (or POSTGRES_*) to serve a single process")
    if not settings.kafka_bootstrap:
        raise typer.BadParameter(
            "set ACCORD_KAFKA_BOOTSTRAP: separate processes talk through Kafka"
        )
    configure_logging(settings.log_level)
    try:
        wait_until_reachable(settings)
    except Unreachable as away:
        typer.echo(f"{away.code}: {away}", err=True)
        raise typer.Exit(1) from None
    collector.tune(settings.gc_threshold)
    configure_telemetry(f"accord-{process.value}")
    app = create_app(
        process, settings, KafkaBus(KafkaAccess.of(settings), settings.kafka_client_id)
    )
    try:
        uvicorn.run(app, host=settings.host, port=port or settings.port)
    finally:
        collector.spare_the_exit()


@app.command()
def token(
    subject: Annotated[str, typer.Argument(help="Who the token is for.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    organisation: Annotated[str, typer.Option(help="Client or provider organisation.")] = "",
    role: Annotated[
        list[str] | None,
        typer.Option(help="CONTRACT=ROLE, repeatable; CONTRACT may be * for every contract."),
    ] = None,
    ttl: Annotated[int, typer.Option(help="Seconds until it expires.")] = 3600,
) -> None:
    """Mint a development token (HS256 with ACCORD_JWT_SECRET)."""
    if not subject.strip():
        raise typer.BadParameter("a person's id, not blank", param_hint="SUBJECT")
    if ttl <= 0:
        raise typer.BadParameter(f"seconds to live, above 0, not {ttl}", param_hint="--ttl")
    roles: dict[str, list[str]] = {}
    for pair in role or []:
        contract, sep, role_name = pair.partition("=")
        if not sep or not role_name:
            raise typer.BadParameter(f"expected CONTRACT=ROLE, got {pair!r}")
        roles.setdefault(contract, []).append(role_name)
    typer.echo(
        mint_token(
            get_settings(),
            subject,
            name=name,
            organisation=organisation,
            roles=roles,
            ttl_seconds=ttl,
        )
    )


@app.command()
def demo(
    url: Annotated[str, typer.Option(help="Where Accord runs (the embedded default).")] = "",
) -> None:
    """Load a realistic outsourcing contract through the public API of a running Accord."""
    import httpx

    from accord import demo as demo_data

    settings = get_settings()
    base = url or f"http://{settings.host}:{settings.port}"
    try:
        summary = demo_data.run(base, settings)
    except httpx.TransportError as error:
        typer.echo(
            f"ACCORD_UNREACHABLE: no Accord answers at {base} ({type(error).__name__}): start"
            " it with `accord dev`, or give its address with --url",
            err=True,
        )
        raise typer.Exit(1) from None
    except demo_data.DemoRefused as refused:
        typer.echo(f"{refused.code}: {refused}", err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(summary))


@app.command()
def asyncapi(
    write: Annotated[bool, typer.Option("--write", help="Write docs/asyncapi.yaml.")] = False,
) -> None:
    """Print the event catalogue (AsyncAPI 3.0) generated from the contracts, or write it."""
    from accord import asyncapi as catalogue

    if write:
        typer.echo(f"wrote {catalogue.write()}")
    else:
        typer.echo(catalogue.render(), nl=False)


@app.command()
def replay(
    source: Annotated[
        str | None,
        typer.Option(
            help="kafka (the topics) or store (the services' event stores); default: kafka"
            " when ACCORD_KAFKA_BOOTSTRAP is set, else store (the embedded default)."
        ),
    ] = None,
) -> None:
    """Drop and rebuild every read model, with progress; the live ones serve until the swap.

    Without DATABASE_URL it works on the embedded default's data (ACCORD_DATA_DIR): on the
    server of the `accord dev` running there, or on one it starts and stops itself."""
    import asyncio

    from rich.progress import Progress

    from accord.database import database
    from accord.infra.pgdata import DataUnavailable
    from services.gateway.replay import rebuild
    from services.gateway.replay_runners import ReplayFailed
    from shared import collector

    settings = get_settings()
    collector.tune(settings.gc_threshold)
    source = source or ("kafka" if settings.kafka_bootstrap else "store")
    if source not in ("kafka", "store"):
        raise typer.BadParameter("source is kafka or store")
    try:
        with database(settings, share=True) as ready, Progress() as bar:
            task = bar.add_task(f"rebuilding from {source}", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total or None)

            applied = asyncio.run(rebuild(ready, source, progress))  # type: ignore[arg-type]
    except DataUnavailable as busy:
        typer.echo(f"{busy.code}: {busy}", err=True)
        raise typer.Exit(1) from None
    except ReplayFailed as failed:
        typer.echo(f"REPLAY_FAILED: {failed}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"rebuilt the read models from {applied} events")


@app.command()
def sdl(
    write: Annotated[
        bool,
        typer.Option(
            "--write", help="Write docs/schema.graphql and the commands in docs/graphql.md."
        ),
    ] = False,
) -> None:
    """Print the GraphQL schema (SDL), or write it to docs/schema.graphql (and the table of
    commands in docs/graphql.md)."""
    from services.gateway.schema import SDL_FILE
    from services.gateway.schema import sdl as schema_text
    from shared.commands.catalogue import GUIDE, guide_with_table

    if write:
        SDL_FILE.write_text(schema_text())
        GUIDE.write_text(guide_with_table(GUIDE.read_text()))
        typer.echo(f"wrote {SDL_FILE} and the commands in {GUIDE}")
    else:
        typer.echo(schema_text(), nl=False)


@app.command()
def version() -> None:
    """Print the Accord version."""
    from services.gateway.schema import accord_version

    typer.echo(accord_version())
