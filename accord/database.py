"""The database an Accord command works on: the one named by the settings, else the embedded
default's server on its data folder (the one `accord dev` runs there, or one started here)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from accord.infra import pgdata, postgres
from shared.settings import Settings


@contextlib.contextmanager
def database(
    settings: Settings,
    *,
    share: bool = False,
    on_lost: Callable[[], None] | None = None,
) -> Iterator[Settings]:
    """The named database, or the embedded server on data_dir (started here, stopped after).

    Raises pgdata.DataInUse while another Accord process runs the server on data_dir, unless
    `share`: then that running server is used (and left running). With `on_lost`, an embedded
    server started here is started again whenever it dies, and `on_lost` is called if it
    cannot be kept running (postgres.PostgresServer.supervise)."""
    if settings.database_url:
        yield settings
        return
    try:
        server = postgres.start(Path(settings.data_dir) / "postgres", durable=True)
    except pgdata.DataInUse as busy:
        if not (share and busy.url):
            raise
        running = busy.url
    else:
        with server:
            if on_lost is not None:
                server.supervise(on_lost)
            yield settings.model_copy(update={"database_url": server.url})
        return
    yield settings.model_copy(update={"database_url": running})
