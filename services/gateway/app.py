"""The gateway process: GraphQL over HTTP and graphql-transport-ws, reading the read models."""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import process_result
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.graphql import OperationType

from services.gateway.consistency import CommittedBatches, ReadYourWrites, checking_pool
from services.gateway.context import GatewayContext
from services.gateway.listening import ReadModelChanges
from services.gateway.projections.schema import SCHEMA_NAME, create_tables
from services.gateway.protection import MAX_BODY_BYTES
from services.gateway.schema import build_schema
from services.gateway.service_calls import OverNetwork, ServiceCalls
from shared.auth import AuthenticationError, TokenVerifier, bearer_token
from shared.bus import Bus
from shared.database import create_pool
from shared.health import health_routes
from shared.metrics import metrics_route
from shared.service_app import no_such_endpoint
from shared.settings import Settings
from shared.shutdown import close_pool, within

log = logging.getLogger(__name__)

# Subscriptions are served over graphql-transport-ws only.
OVER_HTTP = (OperationType.QUERY, OperationType.MUTATION)

# GraphiQL's page asks a public CDN for its code; the gateway serves the same files itself when
# they were fetched (`python -m accord.infra.graphiql`, which `make run` runs), so it works offline.
CDN = "https://unpkg.com/"
ASSETS_PATH = "/graphiql-assets"

# strawberry's page has no setting for its first query: its welcome text is replaced.
EXAMPLE = re.compile(r"const EXAMPLE_QUERY = `.*?`;", re.DOTALL)
IDE_HEADERS = '{\n  "Authorization": "Bearer PASTE-A-TOKEN-HERE"\n}'
IDE_EXAMPLE = """# Accord's GraphQL API. Every operation needs a bearer token:
#
#   1. Mint a development token (for `accord dev`; it signs with the development key):
#        accord token am        # am: the demo's account manager; try cfo, cio, ceo...
#   2. Open HEADERS below and set
#        {"Authorization": "Bearer <the token>"}
#   3. Load a story to look at:  accord demo   (then list contracts with the query below)
#
# Run an operation with Ctrl-Enter; Ctrl-Space completes; the Docs pane lists every type,
# enum and mutation, and docs/graphql.md explains them.

query Contracts {
  contracts(first: 5) {
    edges {
      node {
        id
        title
        expectations {
          id
          text
          status
          terms { metric comparison target unit }
        }
      }
    }
  }
}

# A mutation answers the changed object or a typed refusal: paste a contract's id.
mutation ProposeExpectation {
  proposeExpectation(input: {
    contractId: "PASTE-A-CONTRACT-ID"
    text: "Store Wi-Fi is back within an hour"
    businessArea: "stores"
  }) {
    __typename
    ... on ExpectationChanged { consistent expectation { id text status } }
    ... on Refusal { code message }
  }
}
"""


class AccordGraphQL(GraphQL[GatewayContext, None]):
    """Authenticates every operation and tags every answer with a request id."""

    def __init__(self, app: Starlette, settings: Settings, **options: Any) -> None:
        super().__init__(
            build_schema(
                introspection=settings.graphql_introspection, engine=settings.graphql_engine
            ),
            graphql_ide="graphiql" if settings.graphql_ide else None,
            allow_queries_via_get=False,
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
            **options,
        )
        self.app = app
        self.verifier = TokenVerifier(settings)
        self.settings = settings
        self.local_assets = settings.graphql_ide and settings.graphiql_assets.is_dir()

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    def encode_json(self, data: object) -> str:
        """orjson, a good part faster; text, so subscriptions keep sending text frames."""
        return orjson.dumps(data).decode()

    @property
    def graphql_ide_html(self) -> str:
        """GraphiQL with its assets served from here when they were fetched (same files, same
        integrity hashes), opening on an Accord example and a headers pane that says where the
        token goes."""
        page = super().graphql_ide_html
        if self.local_assets:
            page = page.replace(CDN, f"{ASSETS_PATH}/")
        page = EXAMPLE.sub(lambda _: f"const EXAMPLE_QUERY = `{IDE_EXAMPLE}`;", page, count=1)
        return page.replace(
            "React.useState(parameters.headers)",
            f"React.useState(parameters.headers || {json.dumps(IDE_HEADERS)})",
            1,
        )

    def _context(self, authorization: str | None, request_id: str) -> GatewayContext:
        actor, refused = None, ""
        try:
            actor = self.verifier.verify(bearer_token(authorization))
        except AuthenticationError as error:
            refused = error.reason
        return GatewayContext(
            actor=actor, refused=refused, authorization=authorization or "",
            request_id=request_id, pool=self.app.state.pool, services=self.app.state.services,
            settings=self.settings, changes=self.app.state.changes,
            read_your_writes=self.app.state.read_your_writes,
        )  # fmt: skip

    async def get_context(self, request: Request | WebSocket, response: Any) -> GatewayContext:
        request_id = request.headers.get("x-request-id") or str(uuid4())
        return self._context(request.headers.get("authorization"), request_id)

    async def on_ws_connect(self, context: GatewayContext) -> Any:
        """Authenticate a subscriber at connection time: the token in connection_init's
        payload under `authorization`, spelt in any case as a header may be (client libraries
        send `Authorization`), else in the handshake's own Authorization header (a client that
        can set one)."""
        params = context.connection_params or {}
        given = [v for k, v in params.items() if str(k).lower() == "authorization"]
        authorization = given[0] if given else context.authorization
        try:
            context.actor = self.verifier.verify(bearer_token(str(authorization or "")))
        except AuthenticationError as error:
            raise ConnectionRejectionError({"reason": error.reason}) from None
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """GraphQL POSTs are answered here in one pass; strawberry's view serves the rest
        (the IDE page, graphql-transport-ws)."""
        if scope["type"] == "http" and scope["method"] == "POST":
            await self.answer(Request(scope, receive), send)
        elif scope["type"] == "http" and not self.shows_ide(Request(scope, receive)):
            # Strawberry answers these in plain text (a query in the URL, no IDE to show).
            await _refuse(
                scope, receive, send, 405,
                "send queries and mutations as a JSON POST; GET /graphql serves only GraphiQL",
                headers={"allow": "POST"},
            )  # fmt: skip
        else:
            await super().__call__(scope, receive, send)

    def shows_ide(self, request: Request) -> bool:
        """Whether strawberry's view would answer this GET with the IDE page."""
        return (
            self.graphql_ide is not None
            and request.method == "GET"
            and "query" not in request.query_params
            and any(kind in request.headers.get("accept", "") for kind in ("text/html", "*/*"))
        )

    async def answer(self, request: Request, send: Send) -> None:
        """One query or mutation; anything else is refused with a 400 saying why."""
        scope, receive = request.scope, request.receive
        try:
            data = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return await _refuse(scope, receive, send, 400, "Unable to parse request body as JSON")
        if not isinstance(data, dict):
            return await _refuse(scope, receive, send, 400, "Batching is not enabled")
        query, variables, name = data.get("query"), data.get("variables"), data.get("operationName")
        if not query or not isinstance(query, str):
            return await _refuse(scope, receive, send, 400, "No GraphQL query found in the request")
        if not isinstance(variables, dict | None) or not isinstance(name, str | None):
            message = "variables must be an object and operationName a string"
            return await _refuse(scope, receive, send, 400, message)
        request_id = request.headers.get("x-request-id", "")
        context = self._context(request.headers.get("authorization"), request_id)
        try:
            result = await self.schema.execute(
                query, variable_values=variables, context_value=context, operation_name=name,
                allowed_operation_types=OVER_HTTP,
            )  # fmt: skip
        except CannotGetOperationTypeError as error:
            return await _refuse(scope, receive, send, 400, error.as_http_error_reason())
        except InvalidOperationTypeError:
            message = "subscriptions are served over graphql-transport-ws only"
            return await _refuse(scope, receive, send, 400, message)
        answer = process_result(result)
        errors: list[dict[str, Any]] = answer.get("errors") or []  # type: ignore[assignment]
        for answered in errors:  # each was logged once, with the request id, as it was masked
            answered.setdefault("extensions", {})["requestId"] = request_id
        await Response(orjson.dumps(answer), media_type="application/json")(scope, receive, send)


# ASGI servers give header names in lower case.
WANTED_HEADERS = {b"content-type", b"content-length", b"x-request-id"}


class RefuseSimpleRequests:
    """Only JSON POSTs (which force a CORS preflight) reach GraphQL, and only small ones: the
    body is read here, up to the limit, whether it comes with a length or in chunks."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/graphql" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = {k: v.decode() for k, v in scope["headers"] if k in WANTED_HEADERS}
        if not headers.get(b"content-type", "").startswith("application/json"):
            await _refuse(scope, receive, send, 415, "send GraphQL as application/json")
            return
        too_large = int(headers.get(b"content-length") or 0) > MAX_BODY_BYTES
        body, more = b"", not too_large
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            too_large = len(body) > MAX_BODY_BYTES
            more = message.get("more_body", False) and not too_large
        if too_large:
            await _refuse(scope, receive, send, 413, f"the body is over {MAX_BODY_BYTES} bytes")
            return
        request_id = headers.get(b"x-request-id") or str(uuid4())
        scope["headers"] = [*scope["headers"], (b"x-request-id", request_id.encode())]
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _refuse(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
) -> None:
    body = {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}
    await JSONResponse(body, status_code=status, headers=headers)(scope, receive, send)


def create_app(
    settings: Settings,
    bus: Bus,
    *,
    schema: str = SCHEMA_NAME,
    services: ServiceCalls | None = None,
    batches: CommittedBatches | None = None,
) -> Starlette:
    """The gateway; `bus` is unused (it reads only read models) but every process takes one.

    `services` is how its requests reach the services: over the network when None; the
    composition root gives in-process calls when they are mounted in the same process (the
    same URLs, headers and answers, without a socket: services/gateway/service_calls.py), and
    `batches` the projector's committed batches when it runs in the same process too."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Plain queries only: subscriptions LISTEN on a connection of their own (listening.py).
        pool = await create_pool(settings.database_url, schema, plain_queries=True)
        async with pool.acquire() as conn:
            await create_tables(conn)
        app.state.pool = pool
        checks = await checking_pool(settings.database_url, schema)
        changes = app.state.changes = ReadModelChanges(settings.database_url)
        await changes.start()
        # Told by the projector beside it what each batch committed, the waiting commands need
        # no NOTIFY's read (the poll stays their safety net).
        waits = ReadYourWrites(checks, None if batches else changes)
        app.state.read_your_writes = waits
        calls = services or OverNetwork(settings.answer_seconds)
        app.state.services = calls
        try:
            with waits.hearing(batches) if batches else contextlib.nullcontext():
                yield
        finally:
            await within("read-your-writes", waits.stop())
            await calls.aclose()
            await changes.stop()
            await close_pool(checks)
            await close_pool(pool)

    async def database() -> str | None:
        await app.state.pool.fetchval("SELECT 1")
        return None

    # A path or method it does not serve is answered in JSON, as the services answer theirs.
    app = Starlette(lifespan=lifespan, exception_handlers={HTTPException: no_such_endpoint})
    app.state.readiness = {"database": database}  # what /readyz checks
    app.state.readings = []  # nothing of its own for /metrics: its projector reports
    graphql = AccordGraphQL(app, settings)
    app.router.routes.extend(
        [
            *health_routes(app.state.readiness),
            metrics_route(lambda: app.state.readings),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
        ]
    )
    if graphql.local_assets:
        assets = StaticFiles(directory=settings.graphiql_assets)
        app.router.routes.append(Mount(ASSETS_PATH, app=assets))
    elif settings.graphql_ide:
        log.info(
            "GraphiQL loads its assets from %s: none were fetched to %s"
            " (python -m accord.infra.graphiql fetches them)", CDN, settings.graphiql_assets,
        )  # fmt: skip
    app.add_middleware(RefuseSimpleRequests)
    return app
