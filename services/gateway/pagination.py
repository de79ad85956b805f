"""Relay connections paged by keyset cursors: stable as events arrive (list offsets would
shift under the reader).

The connections follow the Relay Cursor Connections spec (`edges { cursor node }`, `pageInfo`
with strawberry.relay's own PageInfo), but not strawberry.relay's Connection and Node: its
Connection takes only `relay.Node` types, and a relay.Node's `id` is its global id. Every
object's `id` here is the UUID the mutations take (a global id there is refused as ID_INVALID),
so the global id is a field of its own (`globalId`, read back by `node(id:)`); and its
ListConnection pages by offset into the list, whose cursors shift as events arrive.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

import strawberry
from strawberry.relay import PageInfo

from services.gateway.ids import text_argument, utc
from services.gateway.protection import MAX_PAGE, Refused

T = TypeVar("T")


def encode_cursor(created_at: datetime, key: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{key}".encode()).decode()


def decode_cursor(cursor: str, *, uuid_key: bool = False) -> tuple[datetime, str]:
    """The instant and key a cursor of encode_cursor holds (the key a UUID if `uuid_key`)."""
    try:
        at, key = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        moment = utc(datetime.fromisoformat(at))
        if uuid_key:
            key = str(UUID(key))
    except ValueError:
        raise Refused("BAD_USER_INPUT", f"{cursor!r} is not a cursor this API gave out") from None
    return moment, text_argument(key, "after")


def page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise Refused("BAD_USER_INPUT", f"first must be between 1 and {MAX_PAGE}, not {first}")
    return first


@strawberry.type(description="An item of a connection, and the cursor to read on after it.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Pass it as `after` to read the items after this.")
    node: T


@strawberry.type(
    description="One page of a list, in the order its field names (a Relay connection)."
)
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @staticmethod
    def page(edges: list[Edge[T]], *, more: bool, after: str | None) -> Connection[T]:
        """The page of `edges` read after the cursor `after`; `more` if others follow."""
        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=more,
                # Keyset pages only read forwards: a cursor given out had items up to it.
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )
