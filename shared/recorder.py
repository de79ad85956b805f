"""Accord's event recorder: appends without a table lock; readers never pass an event in flight.

The library's PostgreSQL recorder takes `LOCK TABLE ... IN EXCLUSIVE MODE` on every insert so
that notification ids are handed out in commit order; that serialises every write of a service.
This recorder lets writers append concurrently and orders the log by transaction instead
(the transaction-id high-water mark of Marten and of the transactional outbox):

- each event stores the id of the transaction that wrote it (`xact_id`, `pg_current_xact_id()`);
- its notification id is that transaction id shifted left by `EVENTS_PER_TRANSACTION_BITS`, plus
  its place in the insert: the log is ordered by (transaction id, place);
- each writer announces itself before it takes a transaction id: its insert first takes a
  shared advisory lock named after the table (`pg_locks` shows it until the transaction ends);
- a reader takes a snapshot, then looks in `pg_locks` for the writers still running, then reads.
  It is handed only events of transactions older than its bound: the oldest transaction id the
  snapshot saw running that belongs to a writer still running, else the snapshot's xmax. Every
  writer below the bound has committed or aborted by the time the events are read (it was not
  running at the snapshot, or it had ended when `pg_locks` was read: a writer takes its lock
  before its id, so one running then was seen), and every transaction still to come gets a
  larger id, so what a reader sees is always a prefix of the log: once it has seen position N,
  no event can later appear at a position <= N. Transactions that write no events (the read
  models' projections beside the services on the same server) do not hold readers back,
  except in the moment a writer has its id but pg_locks does not show it yet: then every
  running transaction bounds the read, as the xmin of the snapshot would.

A transaction that dies (client killed, backend terminated, server restarted) is aborted, no
longer running, so it stops holding readers back as soon as PostgreSQL notices. A writer that
does not announce itself (the library's recorder, by the setting) must not write while this
recorder's readers run: switch a service's store setting with the service stopped.

Rows stored by the library's recorder keep their ids; the migration adds `xact_id` with 0 for
them (long committed), and new ids start above theirs because transaction ids only grow.
Optimistic concurrency is the library's: the (originator_id, originator_version) primary key.

Tamper evidence: each event is stored with its `hash` (shared/audit/chain.py), computed by the
insert itself from the event's fields, its notification id and the hash of its aggregate's
previous version. Optimistic concurrency makes that predecessor unique, and it has committed
before any writer could load the aggregate at its version, so concurrent writers need no lock
to chain. Rows stored before (or by the library's recorder) have no hash: they are unchained.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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

from shared.audit.chain import DOMAIN, GENESIS

# Room for this many events (2**20 - 1) in one transaction's insert; the rest of a bigint
# numbers transactions (2**43 of them: decades at tens of thousands of writes a second).
EVENTS_PER_TRANSACTION_BITS = 20
_MAX_EVENTS_PER_INSERT = (1 << EVENTS_PER_TRANSACTION_BITS) - 1
# Below this, every writer has finished: the reader's high-water mark (see `_read_bound`).
_FINISHED = SQL("xact_id < %s::xid8")
# The advisory lock's first key: writers of Accord's event tables (the second key names one).
WRITERS_LOCK_SPACE = 0x41434344  # "ACCD"
_XID_WRAP = 1 << 32
_GENESIS = f"'\\x{GENESIS.hex()}'::bytea"


def event_hash_sql(
    position: str, originator_id: str, version: str, topic: str, state: str, previous: str
) -> SQL:
    """shared/audit/chain.py's `event_hash` as an SQL expression over the named expressions."""
    return SQL(
        "sha256({domain} || int8send({position}) || uuid_send({originator_id})"
        " || int8send({version}) || int4send(octet_length(convert_to({topic}, 'UTF8')))"
        " || convert_to({topic}, 'UTF8') || int4send(octet_length({state})) || {state}"
        " || {previous})".format(
            domain="'\\x" + DOMAIN.hex() + "'::bytea",
            position=position,
            originator_id=originator_id,
            version=version,
            topic=topic,
            state=state,
            previous=previous,
        )
    )


@dataclass(frozen=True)
class ChainedNotification(Notification):
    """A notification with its chain: its stored hash and its predecessor's (None: unchained)."""

    hash: bytes | None = None
    previous_hash: bytes | None = None


def _bytes_or_none(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


class AccordApplicationRecorder(postgres.PostgresApplicationRecorder):
    """The library's application recorder, with lock-free appends and high-water-mark reads."""

    def __init__(
        self, datastore: postgres.PostgresDatastore, *, events_table_name: str = "stored_events"
    ):
        super().__init__(datastore, events_table_name=events_table_name)
        table = Identifier(self.datastore.schema), Identifier(self.events_table_name)
        self._table = SQL("{}.{}").format(*table)
        table_name = self._table.as_string(None)
        # The lock's second key names this table; `hashtext` is stable across servers.
        name = f"{self.datastore.schema}.{self.events_table_name}"
        # Evaluated before the row that takes the transaction id: a writer is visible in
        # pg_locks before its id exists (the reader's bound relies on that order).
        announce = SQL(
            "announced AS MATERIALIZED"
            " (SELECT pg_advisory_xact_lock_shared({space}, hashtext({name})))"
        ).format(space=WRITERS_LOCK_SPACE, name=name)

        def previous(originator_id: str, version: str) -> str:
            """The stored hash of an event's predecessor in its aggregate (none: the genesis)."""
            return (
                f"coalesce((SELECT p.hash FROM {table_name} AS p"
                f" WHERE p.originator_id = {originator_id}"
                f" AND p.originator_version = {version} - 1), {_GENESIS})"
            )

        # One statement, so in autocommit one round trip and one implicit transaction; the
        # transaction id is taken once (and assigned then) and numbers every event it inserts.
        # Columns go as plain arrays (native dumpers, no composite type), and the statement is
        # rendered once: a save spends its CPU on the event, not on building SQL. Each event's
        # hash needs the one before it: the recursive part walks the insert in order, taking
        # the predecessor from the row before when it is the same aggregate's previous
        # version (the library hands an aggregate's events over together, in order), else
        # from the table.
        at = "a.{}[c.place + 1]"
        self.accord_insert_statement = (
            SQL(
                "WITH RECURSIVE {announce}, a AS (SELECT %s::{id_type}[] AS ids,"
                " %s::bigint[] AS versions, %s::text[] AS topics, %s::bytea[] AS states,"
                " pg_current_xact_id() AS xact, pg_current_xact_id()::text::bigint << {bits}"
                " AS base FROM announced),"
                " c(place, hash) AS ("
                " SELECT 1::bigint, {first} FROM a WHERE cardinality(a.ids) > 0"
                " UNION ALL"
                " SELECT c.place + 1, {next} FROM c, a WHERE c.place < cardinality(a.ids))"
                " INSERT INTO {table}"
                " (originator_id, originator_version, topic, state, xact_id, notification_id,"
                " hash)"
                " SELECT a.ids[c.place], a.versions[c.place], a.topics[c.place],"
                " a.states[c.place], a.xact, a.base + c.place, c.hash FROM a, c"
                " ORDER BY c.place RETURNING notification_id"
            )
            .format(
                announce=announce,
                table=self._table,
                bits=EVENTS_PER_TRANSACTION_BITS,
                id_type=SQL(self.datastore.originator_id_type),
                first=event_hash_sql(
                    "a.base + 1",
                    "a.ids[1]",
                    "a.versions[1]",
                    "a.topics[1]",
                    "a.states[1]",
                    previous("a.ids[1]", "a.versions[1]"),
                ),
                next=event_hash_sql(
                    "a.base + c.place + 1",
                    at.format("ids"),
                    at.format("versions"),
                    at.format("topics"),
                    at.format("states"),
                    "CASE WHEN a.ids[c.place + 1] = a.ids[c.place]"
                    " AND a.versions[c.place + 1] = a.versions[c.place] + 1"
                    f" THEN c.hash ELSE {previous(at.format('ids'), at.format('versions'))} END",
                ),
            )
            .as_bytes(None)
        )
        # Most saves store one event: a plain row plans and runs cheapest.
        self.accord_insert_one_statement = (
            SQL(
                "WITH {announce} INSERT INTO {table}"
                " (originator_id, originator_version, topic, state, xact_id, notification_id,"
                " hash)"
                " SELECT e.id, e.version, e.topic, e.state, x.xact, x.base + 1, {hash}"
                " FROM (SELECT %s::{id_type} AS id, %s::bigint AS version, %s::text AS topic,"
                " %s::bytea AS state) AS e, (SELECT pg_current_xact_id() AS xact,"
                " pg_current_xact_id()::text::bigint << {bits} AS base FROM announced) AS x"
                " RETURNING notification_id"
            )
            .format(
                announce=announce,
                table=self._table,
                bits=EVENTS_PER_TRANSACTION_BITS,
                id_type=SQL(self.datastore.originator_id_type),
                hash=event_hash_sql(
                    "x.base + 1",
                    "e.id",
                    "e.version",
                    "e.topic",
                    "e.state",
                    previous("e.id", "e.version"),
                ),
            )
            .as_bytes(None)
        )
        self.max_notification_id_statement = SQL(
            "SELECT max(notification_id) FROM {table} WHERE {finished}"
        ).format(table=self._table, finished=_FINISHED)
        self._bound_statement = bound_statement(
            self.datastore.schema, self.events_table_name
        ).encode()

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        super()._create_table(curs)
        curs.execute(
            "SELECT 1 FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s AND column_name = 'xact_id'",
            (self.datastore.schema, self.events_table_name),
        )
        if curs.fetchone() is None:
            self._add_transaction_ids(curs)
        curs.execute(
            "SELECT 1 FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s AND column_name = 'hash'",
            (self.datastore.schema, self.events_table_name),
        )
        if curs.fetchone() is None:
            # Rows already stored stay unchained (NULL); every insert from now on chains.
            curs.execute(
                SQL("ALTER TABLE {table} ADD COLUMN IF NOT EXISTS hash bytea").format(
                    table=self._table
                )
            )

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
                order = chained_order(stored_events)
                parameters = insert_parameters([stored_events[i] for i in order])
                curs.execute(self.accord_insert_statement, parameters, prepare=True)
                stored = [row["notification_id"] for row in curs.fetchall()]
                positions = [0] * len(order)
                for place, given in enumerate(order):
                    positions[given] = stored[place]
                return positions
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
        params: list[Any] = [None]  # the bound, read on the connection below
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
        # Each event with its hash and its predecessor's, which the relay publishes.
        statement = SQL(
            "SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, e.state,"
            " e.hash, (SELECT p.hash FROM {table} AS p WHERE p.originator_id = e.originator_id"
            " AND p.originator_version = e.originator_version - 1) AS previous_hash"
            " FROM {table} AS e WHERE {conditions} ORDER BY e.notification_id LIMIT %s"
        ).format(table=self._table, conditions=SQL(" AND ").join(conditions))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            params[0] = str(self._read_bound(curs))  # as text: no cast from int8 to xid8
            curs.execute(statement, params, prepare=True)
            return [
                ChainedNotification(
                    id=row["notification_id"],
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                    hash=_bytes_or_none(row["hash"]),
                    previous_hash=_bytes_or_none(row["previous_hash"]),
                )
                for row in curs.fetchall()
            ]

    def max_notification_id(self) -> int | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            bound = self._read_bound(curs)
            curs.execute(self.max_notification_id_statement, [str(bound)])
            row = curs.fetchone()
            assert row is not None
            maximum: int | None = row["max"]
            return maximum

    def _read_bound(self, curs: Cursor[DictRow]) -> int:
        """The transaction id below which every writer has finished (see the module's doc).
        Runs in its own statement, before the read that uses it (autocommit: a new snapshot)."""
        curs.execute(self._bound_statement, prepare=True)
        row = curs.fetchone()
        assert row is not None
        return read_bound(row["snapshot"], row["writers"])

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        # The library's subscription waits on NOTIFY, which serialises commits; Accord's
        # readers poll the log and are woken in process (OutboxRelay.wake).
        msg = "Accord's recorder sends no NOTIFY: poll select_notifications"
        raise NotSupportedError(msg)


def bound_statement(schema: str, table: str) -> str:
    """What `read_bound` takes, for the events table `schema.table`: the snapshot, and the ids
    of the writers to the table still running (a row `snapshot`, `writers`). Run it on its own,
    before the read it bounds (the read's snapshot must come after it). Only this database's
    writers count: pg_locks shows the whole server's, and another database on the same server
    (another Accord, another test worker) has a table of the same name."""
    # The statement's snapshot is taken before it runs, so pg_locks is read after it.
    return (
        SQL(
            "SELECT pg_current_snapshot()::text AS snapshot, (SELECT"
            " coalesce(array_agg(t.transactionid::text::bigint), '{{}}')"
            " FROM pg_locks a LEFT JOIN pg_locks t ON t.virtualtransaction = a.virtualtransaction"
            " AND t.locktype = 'transactionid' AND t.mode = 'ExclusiveLock' AND t.granted"
            " WHERE a.locktype = 'advisory' AND a.classid = {space}::oid"
            " AND a.objid = hashtext({name})::oid AND a.objsubid = 2 AND a.granted"
            " AND a.database = (SELECT oid FROM pg_database WHERE datname = current_database()))"
            " AS writers"
        )
        .format(space=WRITERS_LOCK_SPACE, name=f"{schema}.{table}")
        .as_string(None)
    )


def read_bound(snapshot: str, running_writers: Sequence[int | None]) -> int:
    """The oldest running writer's id in the snapshot (`xmin:xmax:xip,...`), else its xmax.

    pg_locks shows 32-bit transaction ids; the snapshot's full ids of running transactions
    tell which epoch each belongs to. A writer that got its id after the snapshot has an id
    at or above xmax, so xmax bounds the rest. A writer whose id pg_locks does not show yet
    (None: PostgreSQL publishes an id to snapshots a moment before it locks it) may be any
    running transaction, so then every running one bounds the read."""
    _, xmax, running = snapshot.split(":")
    in_progress = [int(x) for x in running.split(",") if x]
    if None in running_writers:
        return min([*in_progress, int(xmax)])
    writers = {xid % _XID_WRAP for xid in running_writers if xid is not None}
    return min([*(x for x in in_progress if x % _XID_WRAP in writers), int(xmax)])


def chained_order(stored_events: Sequence[StoredEvent]) -> list[int]:
    """The order to insert the events in (indexes into them): grouped by aggregate, in the
    order the aggregates first appear, each aggregate's by version. The insert statement chains
    an event to the row before it when that is its predecessor, else to the table, which does
    not see a predecessor in the same insert. The library hands events over in that order
    already (the order comes out as given); a caller that interleaves aggregates (a copy of a
    log) is chained all the same."""
    first: dict[Any, int] = {}
    for i, event in enumerate(stored_events):
        first.setdefault(event.originator_id, i)
    return sorted(
        range(len(stored_events)),
        key=lambda i: (first[stored_events[i].originator_id], stored_events[i].originator_version),
    )


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
