"""GET /audit/public-key: the key that signs checkpoints, for an auditor or a consumer to check
a checkpoint without the database."""

from __future__ import annotations

from typing import ClassVar

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shared.audit.keys import NoSigningKey, published, signing_key
from shared.errors import AccordError
from shared.http import answer, refused
from shared.settings import Settings

PATH = "/audit/public-key"


class NoPublishedKey(AccordError):
    """This process knows no signing key, so it has none to publish."""

    code: ClassVar[str] = NoSigningKey.code
    http_status: ClassVar[int | None] = 404


def public_key_route(settings: Settings, *, generate: bool) -> Route:
    """The route; `generate` where this process signs too (the embedded default), so the key
    it will sign with exists before its first checkpoint."""

    async def public_key(request: Request) -> JSONResponse:
        try:
            key = signing_key(settings, generate=generate)
        except NoSigningKey as missing:
            return refused(request, NoPublishedKey(str(missing)))
        return answer(published(key.public_key()))

    return Route(PATH, public_key, methods=["GET"])
