"""Keyset cursors: stable as events arrive (list offsets would shift under the reader)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Generic, TypeVar

import strawberry

from services.gateway.ids import text_argument, utc
from services.gateway.protection import MAX_PAGE, Refused

T = TypeVar("T")


def encode_cursor(created_at: datetime, key: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{key}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, key = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        moment = utc(datetime.fromisoformat(at))
    except ValueError:
        raise Refused("BAD_USER_INPUT", f"{cursor!r} is not a cursor this API gave out") from None
    return moment, text_argument(key, "after")


def page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise Refused("BAD_USER_INPUT", f"first must be between 1 and {MAX_PAGE}, not {first}")
    return first


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
