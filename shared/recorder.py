"""Accord's event recorder: appends without a table lock; readers never pass an event in flight.

The library's PostgreSQL recorder takes `LOCK TABLE ... IN EXCLUSIVE MODE` on every insert so
that notification ids are handed out in commit order; that serialises every write of a service.
This recorder lets writers append concurrently and orders the log by transaction instead
(the transaction-id high-water mark of Marten and of the transactional outbox):

- each event stores the id of the transaction that wrote it (`xact_id`, `pg_current_xact_id()`);
- its notification id is that transaction id shifted left by `EVENTS_PER_TRANSACTION_BITS`, plus
  its place in the insert: the log is ordered by (transaction id, place);
- readers are handed only events of transactions older than their snapshot's xmin (the oldest
  transaction still running anywhere). Every transaction below xmin has committed or aborted, and
  every transaction still to come gets a larger id, so what a reader sees is always a prefix
  of the log: once it has seen position N, no event can later appear at a position <= N.

A transaction that dies (client killed, backend terminated, server restarted) is aborted, no
longer running, so it stops holding readers back as soon as PostgreSQL notices.

Rows stored by the library's recorder keep their ids; the migration adds `xact_id` with 0 for
them (long committed), and new ids start above theirs because transaction ids only grow.
Optimistic concurrency is the library's: the (originator_id, originator_version) primary key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing import postgres
from eventsourcing.persistence import (
    ApplicationRecorder,
    InterfaceError,
    Notification,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    StoredEvent,
    Subscription,
)
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

# Room for this many events (2**20 - 1) in one transaction's insert; the rest of a bigint
# numbers transactions (2**43 of them: decades at tens of thousands of writes a second).
EVENTS_PER_TRANSACTION_BITS = 20
_MAX_EVENTS_PER_INSERT = (1 << EVENTS_PER_TRANSACTION_BITS) - 1
# Below this, every transaction has finished: the reader's high-water mark.
_FINISHED = SQL("xact_id < pg_snapshot_xmin(pg_current_snapshot())")


class AccordApplicationRecorder(postgres.PostgresApplicationRecorder):
    """The library's application recorder, with lock-free appends and high-water-mark reads."""

    def __init__(
        self, datastore: postgres.PostgresDatastore, *, events_table_name: str = "stored_events"
    ):
        super().__init__(datastore, events_table_name=events_table_name)
        table = Identifier(self.datastore.schema), Identifier(self.events_table_name)
        self._table = SQL("{}.{}").format(*table)
        # One statement, so in autocommit one round trip and one implicit transaction; the
        # transaction id is taken once (and assigned then) and numbers every event it inserts.
        # Columns go as plain arrays (native dumpers, no composite type), and the statement is
        # rendered once: a save spends its CPU on the event, not on building SQL.
        self.accord_insert_statement = (
            SQL(
                "INSERT INTO {table}"
                " (originator_id, originator_version, topic, state, xact_id, notification_id)"
                " SELECT e.originator_id, e.originator_version, e.topic, e.state, x.id,"
                " (x.id::text::bigint << {bits}) + e.place"
                " FROM (SELECT pg_current_xact_id() AS id) AS x,"
                " unnest(%s::{id_type}[], %s::bigint[], %s::text[], %s::bytea[]) WITH ORDINALITY"
                " AS e(originator_id, originator_version, topic, state, place)"
                " ORDER BY e.place RETURNING notification_id"
            )
            .format(
                table=self._table,
                bits=EVENTS_PER_TRANSACTION_BITS,
                id_type=SQL(self.datastore.originator_id_type),
            )
            .as_bytes(None)
        )
        # Most saves store one event: a plain VALUES row plans and runs cheapest.
        self.accord_insert_one_statement = (
            SQL(
                "INSERT INTO {table}"
                " (originator_id, originator_version, topic, state, xact_id, notification_id)"
                " VALUES (%s, %s, %s, %s, pg_current_xact_id(),"
                " (pg_current_xact_id()::text::bigint << {bits}) + 1)"
                " RETURNING notification_id"
            )
            .format(table=self._table, bits=EVENTS_PER_TRANSACTION_BITS)
            .as_bytes(None)
        )
        self.max_notification_id_statement = SQL(
            "SELECT max(notification_id) FROM {table} WHERE {finished}"
        ).format(table=self._table, finished=_FINISHED)

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        super()._create_table(curs)
        curs.execute(
            "SELECT 1 FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s AND column_name = 'xact_id'",
            (self.datastore.schema, self.events_table_name),
        )
        if curs.fetchone() is None:
            self._add_transaction_ids(curs)

    def _add_transaction_ids(self, curs: Cursor[DictRow]) -> None:
        """Migrate a table the library's recorder made: its rows count as long committed."""
        for statement in (
            # A constant default adds the column without rewriting the table.
            "ALTER TABLE {table} ADD COLUMN IF NOT EXISTS xact_id xid8 NOT NULL DEFAULT '0'",
            # Any other writer (the library's recorder, by the setting) is then tracked too.
            "ALTER TABLE {table} ALTER COLUMN xact_id SET DEFAULT pg_current_xact_id()",
        ):
            curs.execute(SQL(statement).format(table=self._table))
        curs.execute(
            SQL(
                "SELECT max(notification_id) AS stored,"
                " pg_current_xact_id()::text::bigint << {bits} AS next FROM {table}"
            ).format(table=self._table, bits=EVENTS_PER_TRANSACTION_BITS)
        )
        row = curs.fetchone()
        assert row is not None
        if row["stored"] is not None and row["stored"] >= row["next"]:
            msg = (
                f"{self.events_table_name}: stored notification ids reach {row['stored']},"
                f" above the first id this recorder would give ({row['next']})"
            )
            raise ProgrammingError(msg)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events:
            return []
        if len(stored_events) > _MAX_EVENTS_PER_INSERT:
            msg = f"at most {_MAX_EVENTS_PER_INSERT} events in one insert"
            raise ProgrammingError(msg)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            if len(stored_events) == 1:
                event = stored_events[0]
                one = (event.originator_id, event.originator_version, event.topic, event.state)
                curs.execute(self.accord_insert_one_statement, one, prepare=True)
            else:
                parameters = insert_parameters(stored_events)
                curs.execute(self.accord_insert_statement, parameters, prepare=True)
            return [row["notification_id"] for row in curs.fetchall()]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        """The log from `start`, in order, only as far as every earlier writer has finished."""
        conditions: list[Composed | SQL] = [_FINISHED]
        params: list[Any] = []
        if start is not None:
            conditions.append(
                SQL("notification_id >= %s" if inclusive_of_start else "notification_id > %s")
            )
            params.append(start)
        if stop is not None:
            conditions.append(SQL("notification_id <= %s"))
            params.append(stop)
        if topics:
            conditions.append(SQL("topic = ANY(%s)"))
            params.append(list(topics))
        params.append(limit)
        statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state"
            " FROM {table} WHERE {conditions} ORDER BY notification_id LIMIT %s"
        ).format(table=self._table, conditions=SQL(" AND ").join(conditions))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, params, prepare=True)
            return [
                Notification(
                    id=row["notification_id"],
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        # The library's subscription waits on NOTIFY, which serialises commits; Accord's
        # readers poll the log and are woken in process (OutboxRelay.wake).
        msg = "Accord's recorder sends no NOTIFY: poll select_notifications"
        raise NotSupportedError(msg)


def insert_parameters(stored_events: Sequence[StoredEvent]) -> tuple[list[Any], ...]:
    """The insert statement's four column arrays, in the order the events were given."""
    return (
        [e.originator_id for e in stored_events],
        [e.originator_version for e in stored_events],
        [e.topic for e in stored_events],
        [e.state for e in stored_events],
    )


# Imported as a module, so that this is the one factory class the library finds here.
class AccordPostgresFactory(postgres.PostgresFactory):
    """The library's PostgreSQL factory with Accord's application recorder; `PERSISTENCE_MODULE`
    names this module, and the library finds this one factory in it."""

    application_recorder_class = AccordApplicationRecorder
