"""Customer sheets on the server: create, versioned update with field merge, search, changes."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic_core import to_json
from sqlalchemy import ColumnElement, Text, cast, delete, func, insert, or_, select, true
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from agentdesk.domain.customers import (
    SHEET_FIELDS,
    escape_like,
    parse_customer,
    query_alternatives,
    search_text,
)
from agentdesk.domain.customers import Customer as Sheet
from agentdesk.domain.errors import FieldError, ValidationFailed
from agentdesk.server import audit
from agentdesk.server.accounts import (
    Viewer,
    customer_visibility,
    department_named,
    visits_in_hand,
)
from agentdesk.server.contacts import (
    ContactNotFound,
    LoggedContacts,
    NewContacts,
    apply_contact_mutation,
    contact_record,
    contact_visible,
    log_new_contact,
    write_logged,
)
from agentdesk.server.db import committed_seq, lock_seq, next_seq
from agentdesk.server.events import record_event
from agentdesk.server.messages import (
    MessageNotFound,
    apply_message_mutation,
    get_message,
    message_record,
    message_visibility,
)
from agentdesk.server.models import (
    AppliedMutation,
    Assignment,
    Attempt,
    Contact,
    Customer,
    CustomerPhone,
    CustomerRevision,
    Department,
    Message,
    Visit,
    utcnow,
)
from agentdesk.server.training import (
    TrainingNotFound,
    apply_assignment_mutation,
    apply_attempt_mutation,
    assignment_record,
    assignment_visibility,
    attempt_record,
    attempt_visibility,
    get_assignment,
    get_attempt,
)
from agentdesk.server.visits import (
    VisitNotFound,
    apply_visit_mutation,
    get_visit,
    visit_record,
    visit_visibility,
)
from agentdesk.wire import Mutation, MutationResult

log = logging.getLogger(__name__)


class Forbidden(Exception):
    """The viewer may not do this."""


class NotFound(Exception):
    """No such record, or none the viewer may see."""


@dataclass
class Conflict(Exception):
    """An edit was based on a version that is no longer current."""

    current: dict[str, Any]
    fields: list[str] = field(default_factory=list)


def _department_id(session: Session, viewer: Viewer, name: str) -> int | None:
    """Resolve a sheet's department; an agent may only file sheets in their own."""
    if not name:
        return viewer.department_id if not viewer.sees_everything else None
    dept = department_named(session, name)
    if dept is None:
        raise ValidationFailed([FieldError("department", f"no department named {name!r}")])
    if not viewer.sees_everything and dept.id != viewer.department_id:
        raise ValidationFailed(
            [FieldError("department", "you can only file sheets in your own department")]
        )
    return dept.id


def _department_name(session: Session, department_id: int | None) -> str:
    if department_id is None:
        return ""
    dept = session.get(Department, department_id)
    return dept.name if dept else ""


def record_of(row: Customer) -> dict[str, Any]:
    data = dict(row.data)
    data["id"] = row.id
    data["version"] = row.version
    return data


def _store(row: Customer, sheet: Sheet) -> None:
    row.data = sheet.to_dict()
    row.name = sheet.name
    row.tier = sheet.tier
    row.search_text = search_text(sheet)


def create_customer(
    session: Session, viewer: Viewer, data: Mapping[str, Any], *, device_id: str | None = None
) -> Customer:
    if not viewer.may_write_customers:
        raise Forbidden
    sheet = parse_customer({**data, "version": 1})
    dept_id = _department_id(session, viewer, sheet.department)
    sheet = sheet.with_changes({"department": _department_name(session, dept_id)}).bump(1)
    if session.get(Customer, sheet.id) is not None:
        raise Conflict(current={}, fields=["id"])
    row = Customer(
        id=sheet.id,
        version=1,
        seq=next_seq(session),
        department_id=dept_id,
        updated_by=viewer.user_id,
    )
    _store(row, sheet)
    session.add(row)
    session.add(
        CustomerRevision(
            customer_id=sheet.id,
            version=1,
            fields=list(SHEET_FIELDS),
            changes={k: [None, v] for k, v in sheet.sheet_values().items()},
            user_id=viewer.user_id,
            device_id=device_id,
        )
    )
    session.flush()
    _index_phones(session, sheet)
    record_event(session, "changes", {"seq": row.seq}, row.department_id)
    return row


def _index_phones(session: Session, sheet: Sheet) -> None:
    """Keep the number → customer index in step with the sheet."""
    session.execute(delete(CustomerPhone).where(CustomerPhone.customer_id == sheet.id))
    numbers = sorted({p.number for p in sheet.phones})
    if numbers:
        session.execute(
            insert(CustomerPhone), [{"customer_id": sheet.id, "number": n} for n in numbers]
        )


def get_customer(session: Session, viewer: Viewer, customer_id: str) -> Customer:
    if not viewer.may_read_customers:
        raise Forbidden
    row = session.scalar(
        select(Customer).where(Customer.id == customer_id, customer_visibility(viewer))
    )
    if row is None:
        raise NotFound
    return row


def update_customer(
    session: Session,
    viewer: Viewer,
    customer_id: str,
    changes: Mapping[str, Any],
    *,
    base_version: int,
    device_id: str | None = None,
    merge: bool = False,
) -> Customer:
    """Apply an edit made against ``base_version``.

    With ``merge`` (the sync path) an edit based on an older version still applies when none
    of its fields were changed by anyone else since; edits from the same desk never conflict
    with each other, as they were made one after the other. Without ``merge`` (plain REST
    PUT) any stale version is a conflict.
    """
    if not viewer.may_write_customers:
        raise Forbidden
    unknown = [k for k in changes if k not in SHEET_FIELDS]
    if unknown:
        raise ValidationFailed([FieldError(k, "is not an editable field") for k in unknown])
    lock_seq(session)
    row = session.scalar(
        select(Customer)
        .where(Customer.id == customer_id, customer_visibility(viewer))
        .with_for_update()
    )
    if row is None:
        raise NotFound
    if base_version != row.version:
        if not merge or base_version > row.version:
            raise Conflict(current=record_of(row), fields=sorted(changes))
        others = session.scalars(
            select(CustomerRevision).where(
                CustomerRevision.customer_id == customer_id,
                CustomerRevision.version > base_version,
            )
        ).all()
        overlap = {
            name
            for revision in others
            if device_id is None or revision.device_id != device_id
            for name in revision.fields
        } & set(changes)
        if overlap:
            raise Conflict(current=record_of(row), fields=sorted(overlap))

    before = parse_customer(record_of(row))
    updated = before.with_changes(changes)
    if "department" in changes:
        dept_id = _department_id(session, viewer, updated.department)
        updated = updated.with_changes({"department": _department_name(session, dept_id)})
        row.department_id = dept_id
    old, new = before.sheet_values(), updated.sheet_values()
    changed = {k: [old[k], new[k]] for k in changes if old[k] != new[k]}
    if not changed:
        return row
    row.version += 1
    row.seq = next_seq(session)
    row.updated_at = utcnow()
    row.updated_by = viewer.user_id
    _store(row, updated.bump(row.version))
    session.add(
        CustomerRevision(
            customer_id=row.id,
            version=row.version,
            fields=sorted(changed),
            changes=changed,
            user_id=viewer.user_id,
            device_id=device_id,
        )
    )
    session.flush()
    if "phones" in changed:
        _index_phones(session, updated)
    record_event(session, "changes", {"seq": row.seq}, row.department_id)
    return row


def search_customers(
    session: Session, viewer: Viewer, query: str, *, limit: int = 50, offset: int = 0
) -> tuple[list[Customer], int]:
    if not viewer.may_read_customers:
        raise Forbidden
    stmt = select(Customer).where(customer_visibility(viewer))
    for forms in query_alternatives(query):
        stmt = stmt.where(
            or_(*(Customer.search_text.like(f"%{escape_like(f)}%", escape="\\") for f in forms))
        )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Customer.name, Customer.id).limit(limit).offset(offset))
    return list(rows), int(total)


# --- sync ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RecordKind:
    """How the server applies, finds and describes one kind of record built from steps.
    ``get`` raises a LookupError for a record the viewer may not see."""

    apply: Callable[[Session, Viewer, Mutation], Any]
    get: Callable[[Session, Viewer, str], Any]
    describe: Callable[[Any], dict[str, Any]]


def _get_contact(session: Session, viewer: Viewer, contact_id: str) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None or not contact_visible(viewer, contact):
        raise ContactNotFound(contact_id)
    return contact


_RECORD_KINDS: dict[str, _RecordKind] = {
    "contact": _RecordKind(apply_contact_mutation, _get_contact, contact_record),
    "message": _RecordKind(apply_message_mutation, get_message, message_record),
    "visit": _RecordKind(apply_visit_mutation, get_visit, visit_record),
    "attempt": _RecordKind(apply_attempt_mutation, get_attempt, attempt_record),
    "assignment": _RecordKind(apply_assignment_mutation, get_assignment, assignment_record),
}


def _result(mutation: Mutation, status: str, **extra: Any) -> MutationResult:
    return MutationResult(
        id=str(mutation.id),
        status=status,
        entity_id=str(mutation.entity_id),
        **extra,
    )


def _apply_one(
    session: Session, viewer: Viewer, device_id: str, mutation: Mutation
) -> MutationResult:
    entity_id = str(mutation.entity_id)
    kind = _RECORD_KINDS.get(mutation.entity)
    if kind is not None:
        row = kind.apply(session, viewer, mutation)
        _remember(session, viewer, mutation, row.version)
        return _result(mutation, "applied", version=row.version, record=kind.describe(row))
    if mutation.op == "create":
        row = create_customer(
            session, viewer, {**mutation.fields, "id": entity_id}, device_id=device_id
        )
    elif mutation.op == "update":
        row = update_customer(
            session,
            viewer,
            entity_id,
            mutation.fields,
            base_version=mutation.base_version,
            device_id=device_id,
            merge=True,
        )
    else:
        raise ValidationFailed([FieldError("op", "a customer sheet is created or updated")])
    _remember(session, viewer, mutation, row.version)
    return _result(mutation, "applied", version=row.version, record=record_of(row))


def _remember(session: Session, viewer: Viewer, mutation: Mutation, version: int) -> None:
    """Keep the mutation's id, so a repeat of it is answered without applying it again."""
    session.add(AppliedMutation(**_applied(viewer, mutation, version, utcnow())))


def _applied(viewer: Viewer, mutation: Mutation, version: int, at: dt.datetime) -> dict[str, Any]:
    return {
        "id": str(mutation.id),
        "user_id": viewer.user_id,
        "entity": mutation.entity,
        "entity_id": str(mutation.entity_id),
        "version": version,
        "at": at,
    }


def apply_batch(
    session: Session, viewer: Viewer, device_id: str, mutations: Sequence[Mutation]
) -> list[MutationResult]:
    """Apply a pushed batch in order, each mutation at most once and in a savepoint of its
    own, except runs of new contacts (see :func:`_log_contacts`). The change sequence is
    locked once for the whole batch, and earlier applications are found with one query."""
    if not mutations:
        return []
    lock_seq(session)
    ids = [str(m.id) for m in mutations]
    done = {
        row.id: row
        for row in session.scalars(select(AppliedMutation).where(AppliedMutation.id.in_(ids)))
    }
    seen: set[str] = set()  # the batch's mutations carried out so far

    def logs_contact(mutation: Mutation) -> bool:
        key = str(mutation.id)
        return (
            mutation.entity == "contact"
            and mutation.op == "create"
            and key not in done
            and key not in seen
        )

    results: list[MutationResult] = []
    start = 0
    while start < len(mutations):
        end = start
        in_run: set[str] = set()
        # A run ends before a repeat of one of its own mutations: the repeat is answered
        # as a repeat once the run is written.
        while (
            end < len(mutations)
            and logs_contact(mutations[end])
            and str(mutations[end].id) not in in_run
        ):
            in_run.add(str(mutations[end].id))
            end += 1
        if end - start > 1:
            run = mutations[start:end]
            logged = _log_contacts(session, viewer, run)
            if logged is None:
                logged = [apply_mutation(session, viewer, device_id, m) for m in run]
            results += logged
            seen |= in_run
            start = end
            continue
        mutation = mutations[start]
        key = str(mutation.id)
        # Seen before in this batch: it may have been applied just now, so look again.
        results.append(
            apply_mutation(
                session, viewer, device_id, mutation, done=done.get(key), checked=key not in seen
            )
        )
        seen.add(key)
        start += 1
    return results


def _log_contacts(
    session: Session, viewer: Viewer, run: Sequence[Mutation], new: NewContacts | None = None
) -> list[MutationResult] | None:
    """Log a run of new contacts (a desk back from a busy shift sends hundreds) in one
    savepoint, with one multi-row insert per table. None if the database refused the run
    (say, one of its ids was taken since ``new`` was looked up): nothing of it is kept, and
    the caller carries it out step by step."""
    if new is None:
        new = NewContacts.look_up(session, viewer, run)
    results: list[MutationResult] = []
    logged = LoggedContacts()
    applied: list[dict[str, Any]] = []
    now = utcnow()
    for mutation in run:
        try:
            record = log_new_contact(session, viewer, mutation, new, logged)
        except ValidationFailed as failed:
            errors = [{"field": e.field, "message": e.message} for e in failed.errors]
            results.append(_result(mutation, "rejected", errors=errors))
            continue
        applied.append(_applied(viewer, mutation, 1, now))
        results.append(_result(mutation, "applied", version=1, record=record))
    try:
        with session.begin_nested():
            write_logged(session, logged)
            if applied:
                session.execute(insert(AppliedMutation), applied)
    except DBAPIError as exc:
        log.info("a run of %d new contacts goes step by step: %s", len(run), exc.orig)
        return None
    return results


def apply_mutation(
    session: Session,
    viewer: Viewer,
    device_id: str,
    mutation: Mutation,
    *,
    done: AppliedMutation | None = None,
    checked: bool = False,
) -> MutationResult:
    """Apply one pushed mutation at most once, inside a savepoint of its own.

    ``checked``: the caller has looked for an earlier application of it, and passes it as
    ``done`` if there was one.
    """
    if not checked:
        done = session.get(AppliedMutation, str(mutation.id))
    if done is not None:
        return _duplicate(session, viewer, mutation, done)
    try:
        with session.begin_nested():
            return _apply_one(session, viewer, device_id, mutation)
    except IntegrityError:
        # The same mutation id was applied by a concurrent request in the meantime.
        done = session.get(AppliedMutation, str(mutation.id))
        if done is None:
            raise
        return _duplicate(session, viewer, mutation, done)
    except DBAPIError as exc:
        # A value the database refuses must not turn into a server error: the desk would
        # send the batch again forever. The savepoint is rolled back; the rest goes on.
        log.warning("mutation %s refused by the database: %s", mutation.id, exc.orig)
        return _result(
            mutation,
            "rejected",
            errors=[{"field": "record", "message": "the server cannot store these values"}],
        )
    except Conflict as conflict:
        return _result(
            mutation,
            "conflict",
            version=conflict.current.get("version"),
            record=conflict.current or None,
            conflicts=conflict.fields,
        )
    except ValidationFailed as failed:
        return _result(
            mutation,
            "rejected",
            errors=[{"field": e.field, "message": e.message} for e in failed.errors],
        )
    except (NotFound, ContactNotFound, MessageNotFound, VisitNotFound, TrainingNotFound):
        return _result(
            mutation, "rejected", errors=[{"field": "id", "message": f"no such {mutation.entity}"}]
        )
    except Forbidden:
        return _result(
            mutation,
            "rejected",
            errors=[{"field": "role", "message": "your role may not change customer sheets"}],
        )


def _duplicate(
    session: Session, viewer: Viewer, mutation: Mutation, done: AppliedMutation
) -> MutationResult:
    record: dict[str, Any] | None = None
    kind = _RECORD_KINDS.get(done.entity)
    if kind is not None:
        try:
            record = kind.describe(kind.get(session, viewer, done.entity_id))
        except LookupError:
            record = None  # gone, or no longer the viewer's to see
    else:
        row = session.scalar(
            select(Customer).where(Customer.id == done.entity_id, customer_visibility(viewer))
        )
        record = record_of(row) if row is not None else None
    return _result(mutation, "duplicate", version=done.version, record=record)


def audit_trail(session: Session, viewer: Viewer, customer_id: str) -> list[dict[str, Any]]:
    """The customer's audit trail as the viewer may read it: the sheet's changes, and those
    of the contacts, messages and visits the viewer may see on their own (seeing the
    customer does not open another department's calls or someone else's messages)."""
    get_customer(session, viewer, customer_id)
    entries = audit.trail(session, customer_id)
    checks: dict[str, tuple[Any, ColumnElement[bool]]] = {
        "contact": (Contact, _contact_visibility(viewer)),
        "message": (Message, message_visibility(viewer)),
        "visit": (Visit, visit_visibility(viewer)),
    }
    visible: dict[str, set[str]] = {}
    for entity, (model, rule) in checks.items():
        ids = {e["entity_id"] for e in entries if e["entity"] == entity}
        if ids:
            visible[entity] = set(session.scalars(select(model.id).where(model.id.in_(ids), rule)))
    return [
        e
        for e in entries
        if e["entity"] == "sheet" or e["entity_id"] in visible.get(e["entity"], ())
    ]


def _contact_visibility(viewer: Viewer) -> ColumnElement[bool]:
    if viewer.sees_everything:
        return true()
    # An engineer reads the contact history of the customers they visit.
    visited = Contact.customer_id.in_(visits_in_hand(viewer))
    if viewer.department_id is None:
        return or_(Contact.department_id.is_(None), visited)
    return or_(
        Contact.department_id == viewer.department_id,
        Contact.department_id.is_(None),
        visited,
    )


def changes_page(session: Session, viewer: Viewer, since: int, limit: int) -> bytes:
    """Records changed after ``since`` that the viewer may see, in change order: sheets,
    contacts, messages and visits (never for trainees), and training records.

    The answer is a :class:`~agentdesk.wire.ChangesPage` as JSON. A first sync moves every
    sheet the desk may see, so sheets go out as the database stores them: each sheet's JSON
    text is copied into the page, never decoded and encoded again (a stored sheet always
    carries its own id and version; see :func:`_store`).
    """
    # Read the committed high-water mark first: rows up to it are all visible now.
    high = committed_seq(session)
    sources: list[tuple[str, Any, ColumnElement[bool], Callable[[Any], dict[str, Any]]]] = [
        ("attempt", Attempt, attempt_visibility(viewer), attempt_record),
        ("assignment", Assignment, assignment_visibility(viewer), assignment_record),
    ]
    if viewer.may_read_customers:
        sources += [
            ("contact", Contact, _contact_visibility(viewer), contact_record),
            ("message", Message, message_visibility(viewer), message_record),
            ("visit", Visit, visit_visibility(viewer), visit_record),
        ]
    # One row more than the page tells whether another page exists, so a last page that
    # happens to be full does not send the desk back for an empty one.
    found: list[tuple[int, str, str, int, bytes, str | None]] = []
    counted: list[Any] = []
    if viewer.may_read_customers:
        sheets = (
            select(
                Customer.seq,
                Customer.id,
                Customer.version,
                cast(Customer.data, Text),
                Customer.search_text,
            )
            .where(Customer.seq > since, Customer.seq <= high, customer_visibility(viewer))
            .order_by(Customer.seq)
        )
        counted.append((Customer, sheets))
        found += [
            (seq, "customer", row_id, version, data.encode(), search)
            for seq, row_id, version, data, search in session.execute(sheets.limit(limit + 1))
        ]
    for entity, model, visible, describe in sources:
        stmt = select(model).where(model.seq > since, model.seq <= high, visible)
        counted.append((model, stmt))
        found += [
            (row.seq, entity, row.id, row.version, to_json(describe(row)), None)
            for row in session.scalars(stmt.order_by(model.seq).limit(limit + 1))
        ]
    found.sort(key=lambda item: item[0])
    has_more = len(found) > limit
    found = found[:limit]
    cursor = found[-1][0] if has_more else max(high, since)
    remaining = 0
    if has_more:
        for model, stmt in counted:
            remaining += int(
                session.scalar(
                    select(func.count()).select_from(stmt.where(model.seq > cursor).subquery())
                )
                or 0
            )
    parts = [
        b'{"seq":%d,"entity":"%s","id":%s,"version":%d,"data":%s%s}'
        % (
            seq,
            entity.encode(),
            to_json(row_id),
            version,
            data,
            b"" if search is None else b',"search":' + to_json(search),
        )
        for seq, entity, row_id, version, data, search in found
    ]
    return b'{"changes":[%s],"cursor":%d,"has_more":%s,"remaining":%d}' % (
        b",".join(parts),
        cursor,
        b"true" if has_more else b"false",
        remaining,
    )
