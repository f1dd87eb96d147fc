"""The desk's local store: SQLite in WAL mode, written first, synced later.

Every edit is committed here together with its outbox row in one transaction before anyone
is told it is saved. The store keeps two views of a sheet: the last version the server
confirmed, and what the agent sees (that version with the agent's pending edits on top).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, overload

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Engine,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from agentdesk.domain.contacts import Actor, apply_op, new_contact_record, open_promises
from agentdesk.domain.customers import (
    SHEET_FIELDS,
    Customer,
    format_phone,
    parse_customer,
    query_alternatives,
    search_text,
    sheet_shape_problem,
    validate_changes,
)
from agentdesk.domain.errors import FieldError, ValidationFailed
from agentdesk.domain.messages import (
    Escalation,
    Recipient,
    apply_message_op,
    escalations,
    new_message,
)
from agentdesk.domain.training import (
    Trainee,
    apply_assignment_op,
    apply_attempt_op,
    new_assignment,
    new_attempt,
)
from agentdesk.domain.visits import Engineer, apply_visit_op, new_visit
from agentdesk.store import fulltext
from agentdesk.wire import Change, ChangesPage, Mutation, MutationResult

log = logging.getLogger(__name__)

SCHEMA_VERSION: Final = 7
#: The keys of a stored sheet.
_SHEET_KEYS: Final = ("id", "version", *SHEET_FIELDS)
#: Ids per ``IN (…)`` list, well under SQLite's limit of bound parameters.
_IN_CHUNK: Final = 500
#: How many skipped (unreadable) changes the desk keeps a note of.
UNREADABLE_KEPT: Final = 100
#: How long a called-back message stays in the inbox.
RECENT: Final = dt.timedelta(days=14)
OutboxState = Literal["pending", "conflict", "rejected"]


class StoreError(RuntimeError):
    """The local store cannot be used as it is (e.g. written by a newer AgentDesk)."""


class Base(DeclarativeBase):
    pass


class Meta(Base):
    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class CustomerRow(Base):
    __tablename__ = "customers"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)  # last version the server confirmed
    name: Mapped[str] = mapped_column(String(200), index=True)
    tier: Mapped[str] = mapped_column(String(1))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    search: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON)  # what the agent sees
    server_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    dirty: Mapped[bool] = mapped_column(Boolean, default=False)
    # What a search result shows besides name, tier and organisation (see _summary_columns),
    # so listing a result needs no sheet's JSON. The phone is the first number as stored
    # (E.164); only the few listed are formatted for display (_display_phone).
    phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    email: Mapped[str] = mapped_column(String(200), default="", server_default="")
    computers: Mapped[str] = mapped_column(Text, default="", server_default="")


class ContactRow(Base):
    """A contact (a call, a message, a visit): as the server last described it, and as the
    agent sees it (that with the desk's unconfirmed steps on top)."""

    __tablename__ = "contacts"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    tier: Mapped[str] = mapped_column(String(1))
    customer_id: Mapped[str | None] = mapped_column(String(36), index=True)
    owner_id: Mapped[str | None] = mapped_column(String(36), index=True)
    wrapped: Mapped[bool] = mapped_column(Boolean, default=False)
    offered_at: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    server_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class MessageRow(Base):
    """A message for a colleague: as the server last described it, and as the desk sees it
    (that with the desk's unsent steps on top)."""

    __tablename__ = "messages"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), index=True)
    for_user: Mapped[str] = mapped_column(String(64), index=True)
    for_team: Mapped[str] = mapped_column(String(100), index=True)
    taken_by: Mapped[str] = mapped_column(String(64), index=True)
    callback_before: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    server_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class VisitRow(Base):
    """An engineer's visit: as the server last described it, and as the desk sees it."""

    __tablename__ = "visits"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), index=True)
    engineer: Mapped[str] = mapped_column(String(64), index=True)
    customer_id: Mapped[str] = mapped_column(String(36), index=True)
    window_start: Mapped[str] = mapped_column(String(40), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    server_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AttemptRow(Base):
    """A rehearsal attempt: as the server last described it, and as the desk sees it."""

    __tablename__ = "attempts"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    trainee: Mapped[str] = mapped_column(String(64), index=True)
    finished_at: Mapped[str] = mapped_column(String(40), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    server_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AssignmentRow(Base):
    """A scenario a supervisor asked a trainee to rehearse."""

    __tablename__ = "assignments"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    trainee: Mapped[str] = mapped_column(String(64), index=True)
    assigned_at: Mapped[str] = mapped_column(String(40), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    server_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class OutboxRow(Base):
    __tablename__ = "outbox"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(36), index=True)
    op: Mapped[str] = mapped_column(String(16))
    base_version: Mapped[int] = mapped_column(Integer)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[str] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


@dataclass(frozen=True)
class CustomerSummary:
    """One search result: enough to recognise the customer."""

    id: str
    name: str
    organisation: str
    tier: str
    phone: str
    email: str
    computers: str


@dataclass(frozen=True)
class SearchResult(Sequence[CustomerSummary]):
    """What a search found: the first matching customers by name (the sequence itself), and
    how many match.

    When at most :data:`~agentdesk.store.fulltext.EXACT` customers match (``complete``),
    ``customers`` are the first of them by name (and id) and ``matches`` is how many match.
    When more match, the search stops early (``complete`` is false): ``customers`` are then
    the first by name of the matches it found, and at least ``matches`` customers match.
    """

    customers: tuple[CustomerSummary, ...]
    matches: int
    complete: bool

    def __len__(self) -> int:
        return len(self.customers)

    @overload
    def __getitem__(self, index: int) -> CustomerSummary: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[CustomerSummary]: ...
    def __getitem__(self, index: int | slice) -> CustomerSummary | Sequence[CustomerSummary]:
        return self.customers[index]


@dataclass(frozen=True)
class OutboxIssue:
    """A saved edit the server did not take: a conflict or a refusal, shown to the agent."""

    mutation_id: str
    customer_id: str
    state: OutboxState
    fields: dict[str, Any]
    server_record: dict[str, Any] | None
    conflicting_fields: tuple[str, ...]
    errors: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class OutboxCounts:
    pending: int
    conflicts: int
    rejected: int


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


class LocalStore:
    """The desk's SQLite database. Thread-safe for one writer and many readers."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if str(path) != ":memory:" else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{self.path}" if self.path else "sqlite://"
        self.engine: Engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}
        )
        event.listen(self.engine, "connect", self._pragmas)
        # How common trigrams of the search index are, from one keystroke to the next.
        self._rarities: dict[str, tuple[int, int]] = {}
        self._prepare()

    @staticmethod
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a transaction the UI reported as saved survives a power cut, not only a crash.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # A row replaced by INSERT OR REPLACE fires its delete triggers too, so the search
        # index (kept by triggers, see fulltext) never keeps a replaced sheet.
        cursor.execute("PRAGMA recursive_triggers=ON")
        cursor.close()

    def _prepare(self) -> None:
        with self.engine.begin() as conn:
            Base.metadata.create_all(conn)
            found = conn.scalar(select(Meta.value).where(Meta.key == "schema_version"))
            if found is not None and int(found) == 2:
                # Schema 3 keeps the desk's own contact steps; schema 2 only cached what the
                # server said of contacts, so the cache is rebuilt by pulling again.
                contacts = Base.metadata.tables["contacts"]
                contacts.drop(conn)
                contacts.create(conn)
            if found is None:
                conn.execute(insert(Meta).values(key="schema_version", value=str(SCHEMA_VERSION)))
                conn.execute(insert(Meta).values(key="device_id", value=str(uuid.uuid4())))
            elif int(found) < SCHEMA_VERSION:
                if int(found) < 6:
                    # Schema 2 added contacts and 3 reshaped them. Contacts older than the
                    # saved cursor would never be pulled, so pull everything once more; sheets
                    # already held are skipped by their version.
                    conn.execute(delete(Meta).where(Meta.key.in_(("cursor", "unreadable"))))
                if int(found) < 7:
                    # Schema 7 keeps what a search result shows with each sheet's row, and
                    # indexes the search text (fulltext.create, below, fills the index).
                    _add_summary_columns(conn)
                conn.execute(
                    update(Meta)
                    .where(Meta.key == "schema_version")
                    .values(value=str(SCHEMA_VERSION))
                )
            elif int(found) > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} was written by a newer AgentDesk (schema {found}); "
                    f"this one reads schema {SCHEMA_VERSION} at most"
                )
            fulltext.create(conn)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    # --- meta ---------------------------------------------------------------------------

    def _get_meta(self, conn: Connection, key: str) -> str | None:
        return conn.scalar(select(Meta.value).where(Meta.key == key))

    def _set_meta(self, conn: Connection, key: str, value: str) -> None:
        if self._get_meta(conn, key) is None:
            conn.execute(insert(Meta).values(key=key, value=value))
        else:
            conn.execute(update(Meta).where(Meta.key == key).values(value=value))

    def meta(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return self._get_meta(conn, key)

    def set_meta(self, key: str, value: str) -> None:
        with self._tx() as conn:
            self._set_meta(conn, key, value)

    @property
    def device_id(self) -> str:
        return self.meta("device_id") or ""

    def cursor(self) -> int:
        return int(self.meta("cursor") or 0)

    def schema_version(self) -> int:
        return int(self.meta("schema_version") or 0)

    # --- reading ------------------------------------------------------------------------

    def customer(self, customer_id: str) -> Customer | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(CustomerRow.data, CustomerRow.version).where(CustomerRow.id == customer_id)
            ).first()
        if row is None:
            return None
        return parse_customer({**row.data, "version": row.version})

    def search(self, query: str, *, limit: int = 50) -> SearchResult:
        """Sheets whose name, phone digits, e-mail, organisation, computer or IP hold every
        term of ``query``, first by name (see :class:`SearchResult` and
        :func:`fulltext.find`); every sheet, by name, when nothing is typed."""
        terms = query_alternatives(query)
        with self.engine.connect() as conn:
            dbapi = conn.connection.dbapi_connection
            assert dbapi is not None
            cursor = dbapi.cursor()
            # One read transaction: the index and the rows it points to, at one moment.
            cursor.execute("BEGIN")
            try:
                if terms:
                    found = fulltext.find(cursor, terms, limit=limit, rarities=self._rarities)
                    rowids, matches, complete = found.rowids, found.matches, found.complete
                else:
                    rowids = [
                        rowid
                        for (rowid,) in cursor.execute(
                            "SELECT rowid FROM customers ORDER BY name, id LIMIT ?",
                            (max(limit, 0) + 1,),
                        )
                    ]
                    complete = len(rowids) <= limit
                    rowids = rowids[: max(limit, 0)]
                    matches = len(rowids)
                customers = _summaries(cursor, rowids)
            finally:
                cursor.execute("ROLLBACK")
                cursor.close()
        return SearchResult(tuple(customers), matches, complete)

    def customer_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(CustomerRow)) or 0)

    def outbox_counts(self) -> OutboxCounts:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(OutboxRow.state, func.count()).group_by(OutboxRow.state)
            ).all()
        counts = {state: int(n) for state, n in rows}
        return OutboxCounts(
            pending=counts.get("pending", 0),
            conflicts=counts.get("conflict", 0),
            rejected=counts.get("rejected", 0),
        )

    def issues_for(self, customer_id: str) -> list[OutboxIssue]:
        """Conflicts and refusals still waiting for the agent on one sheet."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(OutboxRow)
                .where(
                    OutboxRow.entity == "customer",
                    OutboxRow.entity_id == customer_id,
                    OutboxRow.state != "pending",
                )
                .order_by(OutboxRow.seq)
            ).all()
        return [_issue(row) for row in rows]

    # --- writing ------------------------------------------------------------------------

    def create_customer(self, data: Mapping[str, Any]) -> Customer:
        """Validate and save a new sheet locally, queued for the server."""
        sheet = parse_customer({**data, "version": 0})
        with self._tx() as conn:
            conn.execute(
                insert(CustomerRow).values(
                    **_columns(sheet.to_dict()),
                    id=sheet.id,
                    version=0,
                    server_data=None,
                    dirty=True,
                )
            )
            self._enqueue(conn, sheet.id, "create", 0, sheet.sheet_values())
        return sheet

    def save_edit(self, customer_id: str, changes: Mapping[str, Any]) -> Customer:
        """Validate an edit, commit it with its outbox row, and return the sheet as saved.

        Raises :class:`~agentdesk.domain.errors.ValidationFailed` naming every bad field;
        nothing is written then.
        """
        with self._tx() as conn:
            row = conn.execute(
                select(CustomerRow.data, CustomerRow.version).where(CustomerRow.id == customer_id)
            ).first()
            if row is None:
                raise KeyError(customer_id)
            current = parse_customer({**row.data, "version": row.version})
            changed = validate_changes(current, changes)
            if not changed:
                return current
            updated = current.with_changes(changed)
            conn.execute(
                update(CustomerRow)
                .where(CustomerRow.id == customer_id)
                .values(**_columns(updated.to_dict()), dirty=True)
            )
            self._enqueue(conn, customer_id, "update", row.version, changed)
        return updated

    def _enqueue(
        self,
        conn: Connection,
        entity_id: str,
        op: str,
        base: int,
        fields: Mapping[str, Any],
        *,
        entity: str = "customer",
        now: dt.datetime | None = None,
    ) -> None:
        conn.execute(
            insert(OutboxRow).values(
                id=str(uuid.uuid4()),
                entity=entity,
                entity_id=entity_id,
                op=op,
                base_version=base,
                fields=dict(fields),
                created_at=now.isoformat() if now is not None else _now(),
                attempts=0,
                state="pending",
                detail=None,
            )
        )

    # --- sync ---------------------------------------------------------------------------

    def pending_mutations(self, limit: int, exclude: Collection[str] = ()) -> list[Mutation]:
        """The oldest edits not yet confirmed by the server, in the order they were made,
        leaving out the ids in ``exclude`` (answered, and being settled).

        A sheet with a conflict or refusal holds back its later edits, so they are never
        applied out of order.
        """
        blocked = select(OutboxRow.entity_id).where(OutboxRow.state != "pending")
        query = (
            select(OutboxRow)
            .where(OutboxRow.state == "pending", OutboxRow.entity_id.not_in(blocked))
            .order_by(OutboxRow.seq)
        )
        if exclude:
            query = query.where(OutboxRow.id.not_in(list(exclude)))
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(limit)).all()
        # Made from rows this store checked when it saved them: not validated again.
        return [
            Mutation.model_construct(
                id=uuid.UUID(row.id),
                entity=row.entity,
                entity_id=uuid.UUID(row.entity_id),
                op=row.op,
                base_version=row.base_version,
                fields=row.fields,
            )
            for row in rows
        ]

    def mark_attempt(self, mutation_ids: Sequence[str]) -> None:
        with self._tx() as conn:
            conn.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(list(mutation_ids)))
                .values(attempts=OutboxRow.attempts + 1)
            )

    def apply_push_results(self, results: Sequence[MutationResult]) -> set[str]:
        """Record what the server answered; returns the ids of the sheets that changed."""
        touched: set[str] = set()
        with self._tx() as conn:
            entities: dict[str, str] = {}
            ids = [result.id for result in results]
            for start in range(0, len(ids), _IN_CHUNK):
                entities.update(
                    (row.id, row.entity)
                    for row in conn.execute(
                        select(OutboxRow.id, OutboxRow.entity).where(
                            OutboxRow.id.in_(ids[start : start + _IN_CHUNK])
                        )
                    )
                )
            settled = self._settle_in_bulk(conn, results, entities)
            for result in results:
                touched.add(result.entity_id)
                if result.id in settled:
                    continue
                entity = entities.get(result.id)
                kind = _KINDS.get(str(entity))
                if kind is not None:
                    self._record_result(conn, kind, result)
                    continue
                self._settle(conn, result)
                if result.record is not None and result.status in (
                    "applied",
                    "duplicate",
                    "conflict",
                ):
                    self._take_server_record(conn, result.record)
                self._rebuild(conn, result.entity_id)
        return touched

    def _settle_in_bulk(
        self, conn: Connection, results: Sequence[MutationResult], entities: Mapping[str, str]
    ) -> set[str]:
        """Settle, in a few statements, the records the server took whole: every step of
        the record in this batch applied, none left in the outbox, and the server's record
        newer than the one held. What the agent sees is then exactly the server's record.
        A busy shift pushes thousands of contact steps; anything else (sheets, refusals,
        records with steps still to send) is settled one by one. Returns the result ids
        settled here."""
        groups: dict[str, list[MutationResult]] = {}
        for result in results:
            groups.setdefault(result.entity_id, []).append(result)
        candidates: dict[str, tuple[_Kind, MutationResult]] = {}
        for entity_id, group in groups.items():
            kinds = {entities.get(r.id) for r in group}
            kind = _KINDS.get(str(kinds.pop())) if len(kinds) == 1 else None
            if kind is None or any(
                r.status not in ("applied", "duplicate") or r.record is None or r.version is None
                for r in group
            ):
                continue
            candidates[entity_id] = (kind, max(group, key=lambda r: r.version or 0))
        if not candidates:
            return set()
        ids = list(candidates)
        answered = {r.id for r in results}
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            for entity_id, mutation_id in conn.execute(
                select(OutboxRow.entity_id, OutboxRow.id).where(OutboxRow.entity_id.in_(chunk))
            ):
                if mutation_id not in answered:
                    candidates.pop(entity_id, None)  # later steps still to send
        by_kind: dict[_Kind, dict[str, MutationResult]] = {}
        for entity_id, (kind, newest) in candidates.items():
            by_kind.setdefault(kind, {})[entity_id] = newest
        settled: set[str] = set()
        for kind, newest_of in by_kind.items():
            row_type = kind.row
            held: dict[str, tuple[int, bool]] = {}
            ids = list(newest_of)
            for start in range(0, len(ids), _IN_CHUNK):
                held.update(
                    (row_id, (version, has_server))
                    for row_id, version, has_server in conn.execute(
                        select(
                            row_type.id, row_type.version, row_type.server_data.is_not(None)
                        ).where(row_type.id.in_(ids[start : start + _IN_CHUNK]))
                    )
                )
            inserts: list[dict[str, Any]] = []
            updates: list[dict[str, Any]] = []
            for entity_id, result in newest_of.items():
                version = int(result.version or 0)
                known = held.get(entity_id)
                if known is not None and known[1] and known[0] >= version:
                    continue  # we hold a newer record: settled one by one
                record = {**(result.record or {}), "version": version}
                values = {
                    **kind.columns(record),
                    "version": version,
                    "server_data": record,
                    "row_id": entity_id,
                }
                (updates if known is not None else inserts).append(values)
                settled.update(r.id for r in groups[entity_id])
            if updates:
                # Bound under other names: SQLAlchemy keeps the column names for itself.
                table = row_type.__table__
                names = [n for n in updates[0] if n != "row_id"]
                conn.execute(
                    update(row_type)
                    .where(row_type.id == bindparam("row_id"))
                    .values({n: bindparam(f"v_{n}", type_=table.c[n].type) for n in names}),
                    [{"row_id": v["row_id"], **{f"v_{n}": v[n] for n in names}} for v in updates],
                )
            if inserts:
                conn.execute(
                    insert(row_type),
                    [{"id": v.pop("row_id"), **v} for v in inserts],
                )
        done = list(settled)
        for start in range(0, len(done), _IN_CHUNK):
            conn.execute(delete(OutboxRow).where(OutboxRow.id.in_(done[start : start + _IN_CHUNK])))
        return settled

    def apply_changes(self, page: ChangesPage) -> set[str]:
        """Apply one page of server changes and save the cursor, in one transaction."""
        touched: set[str] = set()
        with self._tx() as conn:
            taken = self._take_new_sheets(conn, page.changes)
            touched |= taken
            for change in page.changes:
                if change.id in taken and change.entity == "customer":
                    continue
                kind = _KINDS.get(change.entity)
                if kind is None and change.entity != "customer":
                    continue  # a kind of record this desk does not know (a newer server)
                problem = _unreadable(kind, change)
                if problem is not None:
                    # Skipped and reported; the rest of the page, and sync, go on.
                    self._note_unreadable(conn, change, problem)
                    continue
                if kind is not None:
                    if self._take(conn, kind, change.id, change.version, change.data):
                        self._rebuild_record(conn, kind, change.id)
                        touched.add(change.id)
                    continue
                if self._take_server_record(conn, {**change.data, "version": change.version}):
                    self._rebuild(conn, change.id)
                    touched.add(change.id)
            self._set_meta(conn, "cursor", str(page.cursor))
        return touched

    def _take_new_sheets(self, conn: Connection, changes: Sequence[Change]) -> set[str]:
        """Store, in bulk, the sheets of a page this desk has never held and has no edit of.

        A first sync is almost all such sheets. They are the server's canonical sheets, so
        one in that shape (see :func:`~agentdesk.domain.customers.sheet_shape_problem`) is
        stored as it comes, without being parsed and validated again; its search text is the
        one the server sent with it. Returns the ids stored here; the rest (sheets held or
        edited here, or not in the canonical shape) go one by one.
        """
        sheets: dict[str, Change] = {}
        repeated: set[str] = set()
        for change in changes:
            if change.entity == "customer":
                if change.id in sheets:
                    repeated.add(change.id)
                sheets[change.id] = change
        for change_id in repeated:
            del sheets[change_id]
        if not sheets:
            return set()
        ids = list(sheets)
        held: set[str] = set()
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            held.update(conn.scalars(select(CustomerRow.id).where(CustomerRow.id.in_(chunk))))
            held.update(
                conn.scalars(
                    select(OutboxRow.entity_id).where(
                        OutboxRow.entity == "customer", OutboxRow.entity_id.in_(chunk)
                    )
                )
            )
        rows: list[dict[str, Any]] = []
        for change_id, change in sheets.items():
            record = {**change.data, "version": change.version}
            if (
                change_id in held
                or record.get("id") != change_id
                or sheet_shape_problem(record) is not None
            ):
                continue
            data = {k: record[k] for k in _SHEET_KEYS if k in record}
            # Both views are the same text until the agent edits the sheet: encoded once.
            text = json.dumps(data)
            rows.append(
                {
                    **_sheet_columns(data, change.search),
                    "data": text,
                    "id": change_id,
                    "version": change.version,
                    "server_data": text,
                    "dirty": False,
                }
            )
        if rows:
            # Straight to the driver: the JSON is already text, and a first sync inserts
            # tens of thousands of rows.
            names = list(rows[0])
            conn.exec_driver_sql(
                f"INSERT INTO customers ({', '.join(names)}) "
                f"VALUES ({', '.join('?' * len(names))})",
                [tuple(row[n] for n in names) for row in rows],
            )
        return {row["id"] for row in rows}

    def _note_unreadable(self, conn: Connection, change: Change, problem: str) -> None:
        log.warning("skipped change %s of %s %s: %s", change.seq, change.entity, change.id, problem)
        raw = self._get_meta(conn, "unreadable")
        noted = json.loads(raw) if raw else []
        noted.append(
            {
                "seq": change.seq,
                "entity": change.entity,
                "id": change.id,
                "problem": problem[:300],
                "at": _now(),
            }
        )
        self._set_meta(conn, "unreadable", json.dumps(noted[-UNREADABLE_KEPT:]))

    def unreadable_changes(self) -> list[dict[str, Any]]:
        """Changes from the server this desk could not read, and skipped (newest last)."""
        raw = self.meta("unreadable")
        return list(json.loads(raw)) if raw else []

    def _take(
        self, conn: Connection, kind: _Kind, record_id: str, version: int, data: Mapping[str, Any]
    ) -> bool:
        """Keep the server's version of a contact or message unless we hold a newer one."""
        row_type = kind.row
        known = conn.execute(
            select(row_type.version, row_type.server_data).where(row_type.id == record_id)
        ).first()
        if known is not None and known.server_data is not None and known.version >= version:
            return False
        record = {**data, "version": version}
        values = {**kind.columns(record), "version": version, "server_data": record}
        if known is None:
            conn.execute(insert(row_type).values(id=record_id, **values))
        else:
            conn.execute(update(row_type).where(row_type.id == record_id).values(**values))
        return True

    def _rebuild_record(self, conn: Connection, kind: _Kind, record_id: str) -> None:
        """What the agent sees: the server's record with the desk's unsent steps on top.

        A step the server has refused (or would refuse, say because another agent took the
        call first) is left out of the view, but stays in the outbox for the agent to see. A
        record created here and refused stays on the desk, marked, until the agent has read
        why.
        """
        row_type = kind.row
        row = conn.execute(
            select(row_type.server_data, row_type.version).where(row_type.id == record_id)
        ).first()
        steps = conn.execute(
            select(OutboxRow.op, OutboxRow.fields, OutboxRow.created_at, OutboxRow.state)
            .where(OutboxRow.entity == kind.entity, OutboxRow.entity_id == record_id)
            .order_by(OutboxRow.seq)
        ).all()
        actor = self._actor(conn)
        view: dict[str, Any] | None = dict(row.server_data) if row and row.server_data else None
        for step in steps:
            if actor is None or (step.state == "rejected" and step.op != "create"):
                continue
            at = dt.datetime.fromisoformat(step.created_at)
            try:
                if step.op == "create":
                    if view is None:
                        view = kind.create(step.fields, actor, record_id, at)
                        if step.state == "rejected":
                            view["refused"] = True
                elif view is not None:
                    view = kind.step(view, step.op, step.fields, actor, at)
            except ValidationFailed:
                continue
        if view is None:
            conn.execute(delete(row_type).where(row_type.id == record_id))
            return
        version = row.version if row is not None else 0
        view["version"] = version
        values = {**kind.columns(view), "version": version}
        if row is None:
            conn.execute(insert(row_type).values(id=record_id, server_data=None, **values))
        else:
            conn.execute(update(row_type).where(row_type.id == record_id).values(**values))

    def _rebuild_contact(self, conn: Connection, contact_id: str) -> None:
        self._rebuild_record(conn, _CONTACTS, contact_id)

    def _rebuild_message(self, conn: Connection, message_id: str) -> None:
        self._rebuild_record(conn, _MESSAGES, message_id)

    def actor(self) -> Actor | None:
        """The signed-in user, as the author of the desk's steps."""
        with self.engine.connect() as conn:
            return self._actor(conn)

    def _actor(self, conn: Connection) -> Actor | None:
        """The desk's signed-in user, as the author of its contact steps."""
        raw = self._get_meta(conn, "user")
        if not raw:
            return None
        user = json.loads(raw)
        return Actor(
            user_id=str(user["id"]),
            username=str(user["username"]),
            full_name=str(user.get("full_name") or ""),
            supervisor=user.get("role") in ("supervisor", "admin"),
            department=str(user.get("department") or ""),
        )

    def record_contact(
        self,
        contact_id: str,
        op: str,
        fields: Mapping[str, Any],
        *,
        now: dt.datetime | None = None,
    ) -> dict[str, Any]:
        """Apply one step to a contact (or log a new one with ``op="create"``), commit it with
        its outbox row, and return the contact as the agent now sees it.

        Raises :class:`ValidationFailed` (or its subclass ``ContactRefused``) naming the
        field; nothing is written then.
        """
        return self._record(
            _CONTACTS, contact_id, op, fields, now=now, exists="this contact is already logged"
        )

    def _record(
        self,
        kind: _Kind,
        record_id: str,
        op: str,
        fields: Mapping[str, Any],
        *,
        now: dt.datetime | None,
        exists: str,
    ) -> dict[str, Any]:
        """One step on a record built from steps: checked by the core's rules, committed with
        its outbox row, and the record returned as the desk now sees it."""
        moment = now or dt.datetime.now(dt.UTC)
        with self._tx() as conn:
            actor = self._actor(conn)
            if actor is None:
                raise StoreError(f"sign in before recording {kind.entity}s")
            row = conn.scalar(select(kind.row.data).where(kind.row.id == record_id))
            if op == "create":
                if row is not None:
                    raise ValidationFailed([FieldError("id", exists)])
                kind.create(fields, actor, record_id, moment)
            else:
                if row is None:
                    raise KeyError(record_id)
                kind.step(row, op, fields, actor, moment)
            self._enqueue(conn, record_id, op, 0, dict(fields), entity=kind.entity, now=moment)
            self._rebuild_record(conn, kind, record_id)
            data = conn.scalar(select(kind.row.data).where(kind.row.id == record_id))
        assert data is not None
        return dict(data)

    # --- messages -----------------------------------------------------------------------------

    def record_message(
        self,
        message_id: str,
        op: str,
        fields: Mapping[str, Any],
        *,
        now: dt.datetime | None = None,
    ) -> dict[str, Any]:
        """Take a message (``op="create"``) or carry out a step on one, commit it with its
        outbox row, and return the message as the desk now sees it.

        ``fields`` name the recipient by user name (``for_user``/``to_user``) or team, with the
        name the directory gives them (``for_name``/``to_name``). Raises ValidationFailed
        naming each field; nothing is written then.
        """
        return self._record(
            _MESSAGES, message_id, op, fields, now=now, exists="this message is already taken"
        )

    def _record_result(self, conn: Connection, kind: _Kind, result: MutationResult) -> None:
        self._settle(conn, result)
        if result.record is not None and result.version is not None:
            self._take(conn, kind, result.entity_id, result.version, result.record)
        self._rebuild_record(conn, kind, result.entity_id)

    def _settle(self, conn: Connection, result: MutationResult) -> None:
        """An applied step leaves the outbox; a refused one stays there with its reasons."""
        if result.status in ("applied", "duplicate"):
            conn.execute(delete(OutboxRow).where(OutboxRow.id == result.id))
            return
        detail: dict[str, Any] = {
            "record": result.record,
            "conflicts": result.conflicts,
            "errors": [e.model_dump() for e in result.errors],
        }
        conn.execute(
            update(OutboxRow)
            .where(OutboxRow.id == result.id)
            .values(state=result.status, detail=detail)
        )

    # --- visits -------------------------------------------------------------------------------

    def record_visit(
        self,
        visit_id: str,
        op: str,
        fields: Mapping[str, Any],
        *,
        now: dt.datetime | None = None,
    ) -> dict[str, Any]:
        """Schedule a visit (``op="create"``, with ``engineer_name`` and ``customer_name``
        as the desk knows them) or record a step on one, committed with its outbox row.
        Raises ValidationFailed naming each field; nothing is written then."""
        return self._record(
            _VISITS, visit_id, op, fields, now=now, exists="this visit is already scheduled"
        )

    def visit(self, visit_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            data = conn.scalar(select(VisitRow.data).where(VisitRow.id == visit_id))
        return dict(data) if data is not None else None

    def visits_of_engineer(self, username: str) -> list[dict[str, Any]]:
        """The engineer's visits, in time order."""
        with self.engine.connect() as conn:
            rows = conn.scalars(
                select(VisitRow.data)
                .where(VisitRow.engineer == username)
                .order_by(VisitRow.window_start, VisitRow.id)
            ).all()
        return [dict(row) for row in rows]

    def open_visits(self) -> list[dict[str, Any]]:
        """Every visit not closed or cancelled that this desk holds, in time order."""
        with self.engine.connect() as conn:
            rows = conn.scalars(
                select(VisitRow.data)
                .where(VisitRow.state.in_(("scheduled", "on_site")))
                .order_by(VisitRow.window_start, VisitRow.id)
            ).all()
        return [dict(row) for row in rows]

    def visits_of_customer(self, customer_id: str) -> list[dict[str, Any]]:
        """A customer's visits, newest first (the previous visits on the equipment sheet)."""
        with self.engine.connect() as conn:
            rows = conn.scalars(
                select(VisitRow.data)
                .where(VisitRow.customer_id == customer_id)
                .order_by(VisitRow.window_start.desc(), VisitRow.id)
            ).all()
        return [dict(row) for row in rows]

    def visit_refusals(self, visit_id: str) -> list[OutboxIssue]:
        """Steps on a visit the server refused, with its reasons."""
        return self.refusals("visit", visit_id)

    # --- training -----------------------------------------------------------------------------

    def record_attempt(
        self,
        attempt_id: str,
        op: str,
        fields: Mapping[str, Any],
        *,
        now: dt.datetime | None = None,
    ) -> dict[str, Any]:
        """Keep a played scenario (``op="create"`` with scenario, language, replies, seconds
        and started_at; scored here) or a supervisor's review of one, committed with its
        outbox row. Raises ValidationFailed naming each field; nothing is written then."""
        moment = now or dt.datetime.now(dt.UTC)
        if op == "create" and not fields.get("finished_at"):
            # Sent later, the attempt keeps the time it was played here.
            fields = {**fields, "finished_at": moment.isoformat()}
        return self._record(
            _ATTEMPTS, attempt_id, op, fields, now=moment, exists="this attempt is already kept"
        )

    def record_assignment(
        self,
        assignment_id: str,
        op: str,
        fields: Mapping[str, Any],
        *,
        now: dt.datetime | None = None,
    ) -> dict[str, Any]:
        """Assign a scenario (``op="create"``, with ``trainee_name`` as the directory gives
        it) or cancel an assignment, committed with its outbox row."""
        return self._record(
            _ASSIGNMENTS, assignment_id, op, fields, now=now, exists="already assigned"
        )

    def attempts(self, trainee: str | None = None, *, limit: int = 1000) -> list[dict[str, Any]]:
        """Attempts this desk holds (one trainee's, or everyone's), newest first."""
        query = select(AttemptRow.data)
        if trainee is not None:
            query = query.where(AttemptRow.trainee == trainee)
        with self.engine.connect() as conn:
            rows = conn.scalars(
                query.order_by(AttemptRow.finished_at.desc(), AttemptRow.id).limit(limit)
            ).all()
        return [dict(row) for row in rows]

    def attempt_counts(self) -> dict[str, int]:
        """How many attempts this desk holds of each trainee."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(AttemptRow.trainee, func.count()).group_by(AttemptRow.trainee)
            ).all()
        return {str(trainee): int(count) for trainee, count in rows}

    def assignments(self, trainee: str | None = None) -> list[dict[str, Any]]:
        """Assignments this desk holds (one trainee's, or everyone's), newest first."""
        query = select(AssignmentRow.data)
        if trainee is not None:
            query = query.where(AssignmentRow.trainee == trainee)
        with self.engine.connect() as conn:
            rows = conn.scalars(
                query.order_by(AssignmentRow.assigned_at.desc(), AssignmentRow.id)
            ).all()
        return [dict(row) for row in rows]

    def message(self, message_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            data = conn.scalar(select(MessageRow.data).where(MessageRow.id == message_id))
        return dict(data) if data is not None else None

    def messages_for(
        self, username: str, team: str, *, now: dt.datetime | None = None
    ) -> list[dict[str, Any]]:
        """Messages now for the user, or for their team: every open one, and those called
        back whose window closed in the last fortnight."""
        since = ((now or dt.datetime.now(dt.UTC)) - RECENT).astimezone(dt.UTC).isoformat()
        with self.engine.connect() as conn:
            wanted = MessageRow.for_user == username
            if team:
                wanted = or_(wanted, and_(MessageRow.for_user == "", MessageRow.for_team == team))
            recent = or_(MessageRow.state != "called_back", MessageRow.callback_before > since)
            rows = conn.scalars(select(MessageRow.data).where(wanted, recent)).all()
        return [dict(row) for row in rows]

    def escalations(self, now: dt.datetime) -> list[Escalation]:
        """Overdue callbacks and promises among what this desk holds (everyone's, for a
        supervisor's desk)."""
        return escalations(self.open_messages(), self.all_open_promises(), now)

    def forget_message(self, message_id: str) -> None:
        """Drop a message the server refused to take, once it has been taken again (the
        server never had it, so nothing else of it is worth sending)."""
        with self._tx() as conn:
            conn.execute(
                delete(OutboxRow).where(
                    OutboxRow.entity == "message", OutboxRow.entity_id == message_id
                )
            )
            self._rebuild_message(conn, message_id)

    def messages_taken_by(self, username: str, *, limit: int = 100) -> list[dict[str, Any]]:
        """Messages the user took for others, newest first."""
        with self.engine.connect() as conn:
            rows = conn.scalars(
                select(MessageRow.data)
                .where(MessageRow.taken_by == username)
                .order_by(MessageRow.data["taken_at"].as_string().desc())
                .limit(limit)
            ).all()
        return [dict(row) for row in rows]

    def open_messages(self) -> list[dict[str, Any]]:
        """Every message not called back yet that this desk holds (all, for a supervisor)."""
        with self.engine.connect() as conn:
            rows = conn.scalars(
                select(MessageRow.data).where(MessageRow.state != "called_back")
            ).all()
        return [dict(row) for row in rows]

    def all_open_promises(self) -> list[dict[str, Any]]:
        """Promises not kept yet on any contact this desk holds."""
        with self.engine.connect() as conn:
            rows = conn.scalars(
                select(ContactRow.data).where(ContactRow.data["promises"].as_string() != "[]")
            ).all()
        return open_promises(rows)

    def message_refusals(self, message_id: str) -> list[OutboxIssue]:
        """Steps on a message the server refused, with its reasons."""
        return self.refusals("message", message_id)

    def contact(self, contact_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            data = conn.scalar(select(ContactRow.data).where(ContactRow.id == contact_id))
        return dict(data) if data is not None else None

    def contacts_in_state(self, *states: str) -> list[dict[str, Any]]:
        """Contacts in the given states (e.g. the ringing ones), oldest offer first."""
        with self.engine.connect() as conn:
            rows = conn.scalars(
                select(ContactRow.data)
                .where(ContactRow.state.in_(states))
                .order_by(ContactRow.offered_at, ContactRow.id)
            ).all()
        return [dict(row) for row in rows]

    def contacts_of(self, customer_id: str, *, limit: int = 200) -> list[dict[str, Any]]:
        """A customer's contacts, newest first."""
        with self.engine.connect() as conn:
            rows = conn.scalars(
                select(ContactRow.data)
                .where(ContactRow.customer_id == customer_id)
                .order_by(ContactRow.offered_at.desc(), ContactRow.id)
                .limit(limit)
            ).all()
        return [dict(row) for row in rows]

    def open_contacts_of(self, owner_id: str) -> list[dict[str, Any]]:
        """Contacts the user took and has not wrapped up yet, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.scalars(
                select(ContactRow.data)
                .where(
                    ContactRow.owner_id == owner_id,
                    ContactRow.wrapped.is_(False),
                    ContactRow.state.in_(("answered", "ended")),
                )
                .order_by(ContactRow.offered_at, ContactRow.id)
            ).all()
        return [dict(row) for row in rows]

    def open_promises_of(self, user_id: str) -> list[dict[str, Any]]:
        """Promises the user made and has not kept yet, soonest due first (on any contact,
        also one a colleague owns)."""
        with self.engine.connect() as conn:
            rows = conn.scalars(
                select(ContactRow.data).where(ContactRow.data["promises"].as_string() != "[]")
            ).all()
        return [p for p in open_promises(rows) if p.get("owner_id") == user_id]

    def transfer_offers_for(self, username: str, department: str) -> list[dict[str, Any]]:
        """Contacts a colleague offers to hand to this user (or their team), waiting for an
        answer, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.scalars(
                select(ContactRow.data)
                .where(
                    ContactRow.data["transfers"].as_string() != "[]",
                    ContactRow.state == "answered",
                )
                .order_by(ContactRow.offered_at)
            ).all()
        offers = []
        for record in rows:
            transfers = record.get("transfers") or []
            last = transfers[-1] if transfers else None
            if last is None or last.get("by_user") == username:
                continue
            waiting = last.get("state") == "offered" or (
                last.get("state") == "blind" and last.get("to_team") and not record.get("owner_id")
            )
            if not waiting:
                continue
            if last.get("to_user") == username or (
                department and last.get("to_team") == department
            ):
                offers.append(dict(record))
        return offers

    def reminded(self) -> set[str]:
        """Promises the desk has already reminded its user of (kept across restarts)."""
        raw = self.meta("reminded")
        return set(json.loads(raw)) if raw else set()

    def add_reminded(self, promise_ids: Sequence[str]) -> None:
        with self._tx() as conn:
            raw = self._get_meta(conn, "reminded")
            known = set(json.loads(raw)) if raw else set()
            self._set_meta(conn, "reminded", json.dumps(sorted(known | set(promise_ids))))

    def refusals(self, entity: str, entity_id: str) -> list[OutboxIssue]:
        """Steps on one record (a contact, a message, a visit) the server refused, with its
        reasons, in the order they were made."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(OutboxRow)
                .where(
                    OutboxRow.entity == entity,
                    OutboxRow.entity_id == entity_id,
                    OutboxRow.state != "pending",
                )
                .order_by(OutboxRow.seq)
            ).all()
        return [_issue(row) for row in rows]

    def contact_refusals(self, contact_id: str) -> list[OutboxIssue]:
        """Steps on a contact the server refused, with its reasons."""
        return self.refusals("contact", contact_id)

    def _take_server_record(self, conn: Connection, record: Mapping[str, Any]) -> bool:
        """Keep a server version of a sheet unless we already hold a newer one."""
        customer_id, version = str(record["id"]), int(record["version"])
        known = conn.scalar(select(CustomerRow.version).where(CustomerRow.id == customer_id))
        data = dict(record)
        if known is None:
            conn.execute(
                insert(CustomerRow).values(
                    **_columns(data),
                    id=customer_id,
                    version=version,
                    server_data=data,
                    dirty=False,
                )
            )
            return True
        if version <= known:
            return False
        conn.execute(
            update(CustomerRow)
            .where(CustomerRow.id == customer_id)
            .values(version=version, server_data=data)
        )
        return True

    def _rebuild(self, conn: Connection, customer_id: str) -> None:
        """What the agent sees: the server's version with every unconfirmed edit on top."""
        row = conn.execute(
            select(CustomerRow.server_data, CustomerRow.data, CustomerRow.version).where(
                CustomerRow.id == customer_id
            )
        ).first()
        if row is None:
            return
        edits = (
            conn.execute(
                select(OutboxRow.fields)
                .where(OutboxRow.entity == "customer", OutboxRow.entity_id == customer_id)
                .order_by(OutboxRow.seq)
            )
            .scalars()
            .all()
        )
        view = dict(row.server_data) if row.server_data is not None else dict(row.data)
        for fields in edits:
            view.update(fields)
        view["version"] = row.version
        conn.execute(
            update(CustomerRow)
            .where(CustomerRow.id == customer_id)
            .values(**_columns(view), dirty=bool(edits))
        )

    def resolve(self, mutation_id: str, *, keep_mine: bool) -> None:
        """Settle a conflict or refusal: send the agent's values again on top of the
        server's current version, or drop them and take the server's."""
        with self._tx() as conn:
            row = conn.execute(select(OutboxRow).where(OutboxRow.id == mutation_id)).first()
            if row is None:
                return
            if row.entity == "contact":
                # A refused contact step cannot be sent again as it was: the agent has read
                # why, and it goes.
                conn.execute(delete(OutboxRow).where(OutboxRow.id == mutation_id))
                self._rebuild_contact(conn, row.entity_id)
                return
            if keep_mine:
                # Re-based in place, under a new idempotency key: the edit keeps its place
                # before any later edit of the same sheet.
                version = conn.scalar(
                    select(CustomerRow.version).where(CustomerRow.id == row.entity_id)
                )
                conn.execute(
                    update(OutboxRow)
                    .where(OutboxRow.id == mutation_id)
                    .values(
                        id=str(uuid.uuid4()),
                        op="create" if row.op == "create" and not version else "update",
                        base_version=int(version or 0),
                        state="pending",
                        detail=None,
                        attempts=0,
                    )
                )
            else:
                conn.execute(delete(OutboxRow).where(OutboxRow.id == mutation_id))
                self._forget_if_never_synced(conn, row.entity_id)
            self._rebuild(conn, row.entity_id)

    def _forget_if_never_synced(self, conn: Connection, customer_id: str) -> None:
        """A sheet the server never had, with no edit left to send, is dropped entirely."""
        server_data = conn.execute(
            select(CustomerRow.server_data).where(CustomerRow.id == customer_id)
        ).scalar_one_or_none()
        remaining = conn.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.entity_id == customer_id)
        )
        if server_data is None and not remaining:
            conn.execute(delete(CustomerRow).where(CustomerRow.id == customer_id))


def _unreadable(kind: _Kind | None, change: Change) -> str | None:
    """Why a pulled change cannot be kept (a garbled record), or None."""
    record = {**change.data, "version": change.version}
    try:
        if kind is None:
            if str(record.get("id")) != change.id:
                return "the record's id differs from the change's"
            _columns(record)
        else:
            wrong = [k for k in kind.required if not isinstance(record.get(k), str)]
            if wrong:
                return f"{', '.join(wrong)}: expected text"
            kind.columns(record)
    except (ValidationFailed, KeyError, TypeError, ValueError, AttributeError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _columns(data: Mapping[str, Any]) -> dict[str, Any]:
    sheet = parse_customer({k: data[k] for k in _SHEET_KEYS if k in data})
    return _sheet_columns(sheet.to_dict(), search_text(sheet))


def _sheet_columns(data: dict[str, Any], search: str | None) -> dict[str, Any]:
    """A sheet's row from its canonical data (``Customer.to_dict``) and its search text
    (derived here when not given)."""
    if search is None:
        search = search_text(parse_customer(data))
    return {
        "name": data["name"],
        "tier": data["tier"],
        "organisation": data["organisation"],
        "search": search,
        "data": data,
        **_summary_columns(data),
    }


def _summary_columns(data: Mapping[str, Any]) -> dict[str, str]:
    """What a search result shows of a sheet besides name, tier and organisation: the first
    phone number, the e-mail address and the computers' names.

    The number is kept as the sheet holds it, and formatted only when listed: formatting
    costs about 25 µs, a cost a first sync of a region's sheets would pay for every sheet.
    """
    phones = data.get("phones") or []
    devices = data.get("devices") or []
    return {
        "phone": str(phones[0]["number"]) if phones else "",
        "email": str(data.get("email") or ""),
        "computers": ", ".join(d["computer_name"] for d in devices if d.get("computer_name")),
    }


def _add_summary_columns(conn: Connection) -> None:
    """Schema 7: add the summary columns to a store written before, computed for every
    sheet it holds."""
    present = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(customers)")}
    table = CustomerRow.__table__
    for name in ("phone", "email", "computers"):
        if name not in present:
            kind = table.c[name].type.compile(dialect=conn.dialect)
            conn.exec_driver_sql(
                f"ALTER TABLE customers ADD COLUMN {name} {kind} NOT NULL DEFAULT ''"
            )
    last = 0
    while True:
        rows = conn.exec_driver_sql(
            "SELECT rowid, data FROM customers WHERE rowid > ? ORDER BY rowid LIMIT 2000",
            (last,),
        ).all()
        if not rows:
            return
        values = []
        for rowid, data in rows:
            summary = _summary_columns(json.loads(data) if isinstance(data, str) else data)
            values.append((summary["phone"], summary["email"], summary["computers"], rowid))
        conn.exec_driver_sql(
            "UPDATE customers SET phone = ?, email = ?, computers = ? WHERE rowid = ?", values
        )
        last = rows[-1][0]


def _summaries(cursor: Any, rowids: Sequence[int]) -> list[CustomerSummary]:
    """Search results for ``rowids`` of customers, in that order, read with a DB-API cursor."""
    if not rowids:
        return []
    rows = {
        row[0]: row
        for row in cursor.execute(
            "SELECT rowid, id, name, organisation, tier, phone, email, computers "
            "FROM customers WHERE rowid IN (SELECT value FROM json_each(?))",
            (json.dumps(list(rowids)),),
        )
    }
    found = (rows[rowid] for rowid in rowids if rowid in rows)
    return [
        CustomerSummary(key, name, organisation, tier, _display_phone(phone), email, computers)
        for _, key, name, organisation, tier, phone, email, computers in found
    ]


@functools.lru_cache(maxsize=4096)
def _display_phone(number: str) -> str:
    """A listed sheet's first number as it is displayed. A store written by an earlier
    version holds it formatted already; formatting that again gives the same text."""
    return format_phone(number) if number else ""


def _issue(row: Any) -> OutboxIssue:
    detail = row.detail or {}
    return OutboxIssue(
        mutation_id=row.id,
        customer_id=row.entity_id,
        state=row.state,
        fields=row.fields,
        server_record=detail.get("record"),
        conflicting_fields=tuple(detail.get("conflicts", ())),
        errors=tuple((e["field"], e["message"]) for e in detail.get("errors", ())),
    )


def _recipient(fields: Mapping[str, Any], prefix: str) -> Recipient:
    """Whom a desk's step names, as its directory gave them (``for_*`` or ``to_*`` fields)."""
    username = str(fields.get(f"{prefix}_user") or "").strip()
    team = str(fields.get(f"{prefix}_team") or "").strip()
    name = str(fields.get(f"{prefix}_name") or "").strip()
    if username:
        return Recipient(username=username, full_name=name or username)
    return Recipient(team=team)


def _message_columns(record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "state": str(record.get("state", "new")),
        "for_user": str(record.get("for_user") or ""),
        "for_team": str(record.get("for_team") or ""),
        "taken_by": str(record.get("taken_by") or ""),
        "callback_before": str(record.get("callback_before", "")),
        "data": dict(record),
    }


def _contact_columns(record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "state": str(record.get("state", "")),
        "channel": str(record.get("channel", "phone")),
        "tier": str(record.get("tier", "B")),
        "customer_id": record.get("customer_id"),
        "owner_id": record.get("owner_id"),
        "wrapped": bool(record.get("wrap_up")),
        "offered_at": str(record.get("offered_at", "")),
        "data": dict(record),
    }


@dataclass(frozen=True)
class _Kind:
    """How the desk keeps one kind of record built from steps (contacts, messages)."""

    entity: str
    row: Any
    columns: Callable[[Mapping[str, Any]], dict[str, Any]]
    create: Callable[[Mapping[str, Any], Actor, str, dt.datetime], dict[str, Any]]
    step: Callable[[Mapping[str, Any], str, Mapping[str, Any], Actor, dt.datetime], dict[str, Any]]
    #: Text fields every record of the kind has; one missing marks a garbled record.
    required: tuple[str, ...] = ()


def _new_message_view(
    fields: Mapping[str, Any], actor: Actor, message_id: str, at: dt.datetime
) -> dict[str, Any]:
    view = new_message(fields, actor, _recipient(fields, "for"), message_id=message_id, now=at)
    view["unsent"] = True  # shown as kept on this desk until the server has it
    return view


def _new_visit_view(
    fields: Mapping[str, Any], actor: Actor, visit_id: str, at: dt.datetime
) -> dict[str, Any]:
    username = str(fields.get("engineer") or "").strip()
    engineer = Engineer(username=username, full_name=str(fields.get("engineer_name") or username))
    view = new_visit(
        fields,
        actor,
        engineer if username else Engineer(),
        visit_id=visit_id,
        now=at,
        customer_name=str(fields.get("customer_name") or ""),
    )
    view["unsent"] = True
    return view


def _visit_columns(record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "state": str(record.get("state", "scheduled")),
        "engineer": str(record.get("engineer") or ""),
        "customer_id": str(record.get("customer_id") or ""),
        "window_start": str(record.get("window_start", "")),
        "data": dict(record),
    }


_CONTACTS: Final = _Kind(
    entity="contact",
    row=ContactRow,
    columns=lambda record: _contact_columns(record),
    create=lambda fields, actor, cid, at: new_contact_record(fields, actor, contact_id=cid, now=at),
    step=lambda view, op, fields, actor, at: apply_op(view, op, fields, actor, now=at),
    required=("state", "channel", "offered_at"),
)
_MESSAGES: Final = _Kind(
    entity="message",
    row=MessageRow,
    columns=lambda record: _message_columns(record),
    create=_new_message_view,
    step=lambda view, op, fields, actor, at: apply_message_op(
        view, op, fields, actor, now=at, recipient=_recipient(fields, "to")
    ),
    required=("state", "taken_by", "callback_before"),
)
_VISITS: Final = _Kind(
    entity="visit",
    row=VisitRow,
    columns=_visit_columns,
    create=_new_visit_view,
    step=lambda view, op, fields, actor, at: apply_visit_op(view, op, fields, actor, now=at),
    required=("state", "customer_id", "window_start"),
)
_ATTEMPTS: Final = _Kind(
    entity="attempt",
    row=AttemptRow,
    columns=lambda record: {
        "trainee": str(record.get("trainee") or ""),
        "finished_at": str(record.get("finished_at") or ""),
        "data": dict(record),
    },
    create=lambda fields, actor, aid, at: {
        **new_attempt(fields, actor, attempt_id=aid, now=at),
        "unsent": True,
    },
    step=lambda view, op, fields, actor, at: apply_attempt_op(view, op, fields, actor, now=at),
    required=("trainee", "scenario", "finished_at"),
)


def _new_assignment_view(
    fields: Mapping[str, Any], actor: Actor, assignment_id: str, at: dt.datetime
) -> dict[str, Any]:
    username = str(fields.get("trainee") or "").strip()
    trainee = Trainee(username=username, full_name=str(fields.get("trainee_name") or username))
    view = new_assignment(
        fields, actor, trainee if username else Trainee(), assignment_id=assignment_id, now=at
    )
    view["unsent"] = True
    return view


_ASSIGNMENTS: Final = _Kind(
    entity="assignment",
    row=AssignmentRow,
    columns=lambda record: {
        "trainee": str(record.get("trainee") or ""),
        "assigned_at": str(record.get("assigned_at") or ""),
        "data": dict(record),
    },
    create=_new_assignment_view,
    step=lambda view, op, fields, actor, at: apply_assignment_op(view, op, fields, actor, now=at),
    required=("trainee", "scenario", "assigned_at"),
)
_KINDS: Final[dict[str, _Kind]] = {
    "contact": _CONTACTS,
    "message": _MESSAGES,
    "visit": _VISITS,
    "attempt": _ATTEMPTS,
    "assignment": _ASSIGNMENTS,
}
