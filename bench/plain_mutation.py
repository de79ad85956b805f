"""`proposeExpectation` as a team would write it without event sourcing: the baseline of
bench.command_throughput.

Stock strawberry (its parser and validation caches on) served by uvicorn, the same JWT check
as Accord (shared.auth.TokenVerifier), one participant lookup and one `INSERT ... RETURNING`
with asyncpg, answered with the row. Run: `python -m bench.plain_mutation DATABASE_URL PORT`;
the bench creates the tables (SCHEMA_SQL) and the participants before it starts this.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import asyncpg
import strawberry
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache

from shared.auth import TokenVerifier, bearer_token
from shared.settings import Settings

SCHEMA = "bench_plain"
SCHEMA_SQL = f"""
DROP SCHEMA IF EXISTS {SCHEMA} CASCADE;
CREATE SCHEMA {SCHEMA};
CREATE TABLE {SCHEMA}.participants (
    contract_id uuid NOT NULL, person_id text NOT NULL, role text NOT NULL,
    PRIMARY KEY (contract_id, person_id));
CREATE TABLE {SCHEMA}.expectations (
    expectation_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    contract_id uuid NOT NULL, text text NOT NULL, business_area text NOT NULL,
    why_it_matters text NOT NULL DEFAULT '', proposed_by text NOT NULL,
    status text NOT NULL DEFAULT 'proposed', version int NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now());
"""

state: dict[str, Any] = {}


@strawberry.type
class Expectation:
    id: strawberry.ID
    contract_id: strawberry.ID
    text: str
    business_area: str
    why_it_matters: str
    status: str
    version: int
    proposed_by: str


@strawberry.input
class ProposeExpectationInput:
    contract_id: strawberry.ID
    text: str
    business_area: str
    why_it_matters: str = ""


@strawberry.type
class Query:
    @strawberry.field
    def health(self) -> str:
        return "ok"


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def propose_expectation(
        self, info: strawberry.Info, input: ProposeExpectationInput
    ) -> Expectation:
        verifier: TokenVerifier = state["verifier"]
        actor = verifier.verify(bearer_token(info.context["request"].headers.get("authorization")))
        pool: asyncpg.Pool = state["pool"]
        contract = UUID(str(input.contract_id))
        role = await pool.fetchval(
            f"SELECT role FROM {SCHEMA}.participants WHERE contract_id = $1 AND person_id = $2",
            contract,
            actor.subject,
        )
        if role != "client_decision_maker":
            raise PermissionError("only the client's decision makers propose expectations")
        row = await pool.fetchrow(
            f"INSERT INTO {SCHEMA}.expectations"
            " (contract_id, text, business_area, why_it_matters, proposed_by)"
            " VALUES ($1, $2, $3, $4, $5) RETURNING *",
            contract, input.text, input.business_area, input.why_it_matters, actor.subject,
        )  # fmt: skip
        assert row is not None
        return Expectation(
            id=strawberry.ID(str(row["expectation_id"])),
            contract_id=strawberry.ID(str(row["contract_id"])),
            text=row["text"],
            business_area=row["business_area"],
            why_it_matters=row["why_it_matters"],
            status=row["status"],
            version=row["version"],
            proposed_by=row["proposed_by"],
        )


schema = strawberry.Schema(Query, Mutation, extensions=[ParserCache, ValidationCache])


def create_app(database_url: str) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        state["verifier"] = TokenVerifier(Settings())
        state["pool"] = await asyncpg.create_pool(database_url)  # asyncpg's default size
        try:
            yield
        finally:
            await state["pool"].close()

    return Starlette(
        routes=[Route("/graphql", GraphQL(schema, graphql_ide=None))], lifespan=lifespan
    )


if __name__ == "__main__":
    uvicorn.run(
        create_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning"
    )
