"""GraphiQL's page loads its assets from the gateway once they were fetched (offline), else from
the public CDN: never a server error, whichever directory Accord was started from."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from services.gateway.app import ASSETS_PATH, CDN, create_app
from shared.bus_memory import InProcessBus
from shared.settings import Settings
from tests.integration.http_server import serving

ASSET = "graphiql@3.8.3/graphiql.min.js"


@asynccontextmanager
async def gateway(database_url: str, schema: str, assets: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway on the test's read-model schema (dropped after the test, see conftest)."""
    settings = Settings(database_url=database_url, graphiql_assets=assets)
    async with (
        serving(create_app(settings, InProcessBus(), schema=schema)) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        yield http


async def test_fetched_assets_are_served_by_the_gateway_itself(
    database_url: str, schema: str, tmp_path: Path
) -> None:
    (tmp_path / ASSET).parent.mkdir()
    (tmp_path / ASSET).write_text("// the asset")
    async with gateway(database_url, schema, tmp_path) as http:
        page = await http.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200
        assert f"{ASSETS_PATH}/" in page.text and CDN not in page.text
        assert (await http.get(f"{ASSETS_PATH}/{ASSET}")).text == "// the asset"
        assert (await http.get(f"{ASSETS_PATH}/nothing.js")).status_code == 404


async def test_without_fetched_assets_the_page_loads_them_from_the_cdn_and_says_so_once(
    database_url: str, schema: str, tmp_path: Path, caplog
) -> None:
    caplog.set_level(logging.INFO, "services.gateway.app")
    async with gateway(database_url, schema, tmp_path / "never-fetched") as http:
        page = await http.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200
        assert CDN in page.text and ASSETS_PATH not in page.text
        assert (await http.get(f"{ASSETS_PATH}/{ASSET}")).status_code == 404
    said = [r.getMessage() for r in caplog.records if r.name == "services.gateway.app"]
    assert len(said) == 1 and "python -m accord.infra.graphiql" in said[0], said


def test_the_default_assets_are_the_checkouts_wherever_accord_starts(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert Settings().graphiql_assets == Path(__file__).resolve().parents[3] / ".cache" / "graphiql"
