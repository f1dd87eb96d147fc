"""Contact records on the server: how the API and the desks see them, and what desks do to them.

Desks push contact steps (answer, end, wrap-up, notes, promises, contacts logged by hand) as
mutations; the rules are the core's own (:func:`agentdesk.domain.contacts.apply_op`), so a
desk that applied a step locally and the server agree on the result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Protocol

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from agentdesk.domain.contacts import (
    Actor,
    apply_op,
    new_contact_record,
    parse_time,
    speed_of_answer,
)
from agentdesk.domain.errors import FieldError, ValidationFailed
from agentdesk.server.accounts import Viewer, customer_visibility, viewer_for
from agentdesk.server.audit import audit_values, note_change
from agentdesk.server.db import next_seq
from agentdesk.server.events import event_values, events_due, record_event
from agentdesk.server.models import (
    AuditEntry,
    Contact,
    Customer,
    Department,
    Event,
    User,
    utcnow,
)
from agentdesk.wire import Mutation

#: Record keys kept in the row's JSON rather than in columns of their own.
DATA_KEYS = (
    "candidates",
    "caller_name",
    "waited_s",
    "owner_name",
    "notes",
    "promises",
    "wrap_up",
    "holds",
    "transfers",
    "script",
)


class ContactNotFound(LookupError):
    """No such contact, or none the viewer may see."""


def aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class ContactColumns(Protocol):
    """What :func:`contact_record` reads: a contact row, or the columns of one to be written."""

    id: str
    version: int
    channel: str
    direction: str
    call_id: str | None
    caller_number: str
    called_number: str
    queue: str
    customer_id: str | None
    tier: str
    state: str
    offered_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    answered_by: str
    hangup_cause: str
    owner_id: str | None
    data: dict[str, Any]


def contact_record(contact: ContactColumns) -> dict[str, Any]:
    """A contact as the API and the desks see it."""
    offered = aware(contact.offered_at)
    answered = aware(contact.answered_at) if contact.answered_at else None
    ended = aware(contact.ended_at) if contact.ended_at else None
    data = contact.data
    return {
        "id": contact.id,
        "version": contact.version,
        "channel": contact.channel,
        "direction": contact.direction,
        "call_id": contact.call_id,
        "caller_number": contact.caller_number,
        "called_number": contact.called_number,
        "queue": contact.queue,
        "customer_id": contact.customer_id,
        "candidates": list(data.get("candidates", [])),
        "caller_name": data.get("caller_name", ""),
        "tier": contact.tier,
        "state": contact.state,
        "offered_at": offered.isoformat(),
        "answered_at": answered.isoformat() if answered else None,
        "ended_at": ended.isoformat() if ended else None,
        "speed_of_answer_s": speed_of_answer(offered, answered),
        "waited_s": data.get("waited_s"),
        "answered_by": contact.answered_by,
        "hangup_cause": contact.hangup_cause,
        "owner_id": contact.owner_id,
        "owner_name": data.get("owner_name", ""),
        "notes": list(data.get("notes", [])),
        "promises": list(data.get("promises", [])),
        "wrap_up": data.get("wrap_up"),
        "holds": list(data.get("holds", [])),
        "transfers": list(data.get("transfers", [])),
        "script": data.get("script"),
    }


def _time(value: Any) -> dt.datetime | None:
    return parse_time(value, "at") if value else None


def record_columns(record: dict[str, Any]) -> dict[str, Any]:
    """The columns a record (as :func:`contact_record` gives it) is stored in."""
    return {
        "channel": record["channel"],
        "direction": record["direction"],
        "caller_number": record.get("caller_number") or "",
        "customer_id": record.get("customer_id"),
        "tier": record.get("tier") or "B",
        "state": record["state"],
        "offered_at": parse_time(record["offered_at"], "offered_at"),
        "answered_at": _time(record.get("answered_at")),
        "ended_at": _time(record.get("ended_at")),
        "answered_by": record.get("answered_by") or "",
        "hangup_cause": record.get("hangup_cause") or "",
        "owner_id": record.get("owner_id"),
        "data": {key: record.get(key) for key in DATA_KEYS if record.get(key) is not None},
    }


def store_record(contact: Contact, record: dict[str, Any]) -> None:
    """Write a record (as :func:`contact_record` gives it) back into the row."""
    for column, value in record_columns(record).items():
        setattr(contact, column, value)


def actor_for(session: Session, viewer: Viewer) -> Actor:
    """Who carries out a step, looked up once per transaction (a pushed batch has many)."""
    transaction = session.get_transaction()
    cached = session.info.get("actors")
    if cached is None or cached[0] is not transaction:
        cached = session.info["actors"] = (transaction, {})
    actors: dict[Viewer, Actor] = cached[1]
    if viewer in actors:
        return actors[viewer]
    user = session.get(User, viewer.user_id)
    assert user is not None  # a viewer is made from a signed-in user
    department = session.get(Department, user.department_id) if user.department_id else None
    actor = actors[viewer] = Actor(
        user_id=user.id,
        username=user.username,
        full_name=user.full_name,
        supervisor=viewer.sees_everything,
        department=department.name if department else "",
    )
    return actor


def _customer(session: Session, viewer: Viewer, customer_id: Any) -> Customer:
    found = session.scalar(
        select(Customer).where(Customer.id == str(customer_id), customer_visibility(viewer))
    )
    if found is None:
        raise ValidationFailed([FieldError("customer_id", "no such customer")])
    return found


def contact_visible(viewer: Viewer, contact: Contact) -> bool:
    if viewer.sees_everything:
        return True
    if not viewer.may_read_customers:
        return False
    return contact.department_id in (None, viewer.department_id)


@dataclass(frozen=True)
class NamedCustomer:
    """What a logged contact takes from the customer it names."""

    id: str
    name: str
    tier: str
    department_id: int | None


@dataclass
class NewContacts:
    """A run of contacts being logged, looked up together: the customers they name (as the
    viewer may see them) and which of their ids exist already."""

    customers: dict[str, NamedCustomer]
    existing: set[str]

    @classmethod
    def look_up(
        cls, session: Session, viewer: Viewer, mutations: Sequence[Mutation]
    ) -> NewContacts:
        named = {str(m.fields["customer_id"]) for m in mutations if m.fields.get("customer_id")}
        ids = [str(m.entity_id) for m in mutations]
        customers = (
            session.execute(
                select(Customer.id, Customer.name, Customer.tier, Customer.department_id).where(
                    Customer.id.in_(named), customer_visibility(viewer)
                )
            ).all()
            if named
            else []
        )
        return cls(
            customers={row.id: NamedCustomer(*row) for row in customers},
            existing=set(session.scalars(select(Contact.id).where(Contact.id.in_(ids)))),
        )


@dataclass
class LoggedContacts:
    """New contacts of a run, checked and ready to be written together
    (:func:`write_logged`): their rows, records, audit entries and events."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def log_new_contact(
    session: Session,
    viewer: Viewer,
    mutation: Mutation,
    new: NewContacts,
    logged: LoggedContacts,
) -> dict[str, Any]:
    """Check a contact a desk logged (``create``) and add it to ``logged``, without a query:
    what it names was looked up with its run (``new``). Returns its record; raises
    ValidationFailed naming the field. The caller writes the run with
    :func:`write_logged`."""
    if not viewer.may_write_customers:
        raise ValidationFailed([FieldError("role", "your role may not record contacts")])
    contact_id = str(mutation.entity_id)
    fields = dict(mutation.fields)
    customer = None
    if fields.get("customer_id"):
        customer = new.customers.get(str(fields["customer_id"]))
        if customer is None:
            raise ValidationFailed([FieldError("customer_id", "no such customer")])
        fields.update(customer_id=customer.id, tier=customer.tier, caller_name=customer.name)
    if contact_id in new.existing:
        raise ValidationFailed([FieldError("id", "a contact with this id exists")])
    now = utcnow()
    actor = actor_for(session, viewer)
    record = new_contact_record(fields, actor, contact_id=contact_id, now=now)
    new.existing.add(contact_id)
    department_id = customer.department_id if customer is not None else viewer.department_id
    row = {
        "id": contact_id,
        "version": 1,
        "seq": next_seq(session),
        "department_id": department_id,
        "bridge_id": None,
        "call_id": None,
        "called_number": "",
        "queue": "",
        "updated_at": now,
        **record_columns(record),
    }
    after = contact_record(SimpleNamespace(**row))
    logged.rows.append(row)
    logged.records.append(after)
    logged.audit.append(
        audit_values(
            user_id=viewer.user_id,
            entity="contact",
            entity_id=contact_id,
            op="create",
            before=None,
            after=after,
            customer_id=row["customer_id"],
            at=now,
        )
    )
    logged.events.append(event_values("contact", after, department_id))
    return after


def write_logged(session: Session, logged: LoggedContacts) -> None:
    """Write a run of new contacts with a few multi-row statements (their audit entries and
    events with them); the database may refuse it (DBAPIError)."""
    if not logged.rows:
        return
    events_due(session)
    session.execute(insert(Contact), logged.rows)
    session.execute(insert(AuditEntry), logged.audit)
    session.execute(insert(Event), logged.events)


def apply_contact_mutation(session: Session, viewer: Viewer, mutation: Mutation) -> Contact:
    """Carry out one contact step from a desk; raises ValidationFailed (or its subclass
    ContactRefused) naming the field, or ContactNotFound."""
    if not viewer.may_write_customers:
        raise ValidationFailed([FieldError("role", "your role may not record contacts")])
    # Every step takes the next change number; taking it first is taking the sequence lock
    # first, as every writer does (a refused step rolls it back with its savepoint).
    seq = next_seq(session)
    now = utcnow()
    actor = actor_for(session, viewer)
    contact_id = str(mutation.entity_id)
    fields = dict(mutation.fields)
    customer = None
    if fields.get("customer_id") and mutation.op in ("create", "link"):
        customer = _customer(session, viewer, fields["customer_id"])
        fields.update(customer_id=customer.id, tier=customer.tier, caller_name=customer.name)
    contact = session.scalar(select(Contact).where(Contact.id == contact_id).with_for_update())
    before = contact_record(contact) if contact is not None else None
    if mutation.op == "create":
        if contact is not None:
            raise ValidationFailed([FieldError("id", "a contact with this id exists")])
        record = new_contact_record(fields, actor, contact_id=contact_id, now=now)
        contact = Contact(
            id=contact_id,
            version=0,
            seq=seq,
            data={},
            bridge_id=None,
            call_id=None,
            called_number="",
            queue="",
        )
        contact.department_id = (
            customer.department_id if customer is not None else viewer.department_id
        )
        session.add(contact)
    else:
        if contact is None or not contact_visible(viewer, contact):
            raise ContactNotFound(contact_id)
        if mutation.op == "transfer":
            fields.update(_transfer_target(session, contact, fields))
        record = apply_op(contact_record(contact), mutation.op, fields, actor, now=now)
        if customer is not None:
            contact.department_id = customer.department_id
        elif contact.department_id is None and record.get("owner_id") == actor.user_id:
            # A contact nobody could place (an unknown or shared number) belongs to the
            # department of the agent who took it from now on, not to every department.
            contact.department_id = viewer.department_id
    store_record(contact, record)
    contact.version += 1
    contact.seq = seq
    contact.updated_at = now
    session.flush()
    after = contact_record(contact)
    note_change(
        session,
        user_id=viewer.user_id,
        entity="contact",
        entity_id=contact_id,
        op=mutation.op,
        before=before,
        after=after,
        customer_id=contact.customer_id,
    )
    record_event(session, "contact", after, contact.department_id)
    return contact


def owner_for_agent(session: Session, agent: str, department_id: int | None) -> User | None:
    """The user a phone system names as the one who answered (user name or full name), if
    they may take contacts of that department; else nobody."""
    agent = agent.strip()
    if not agent:
        return None
    found = session.scalar(select(User).where(User.username == agent, User.active.is_(True)))
    if found is None:
        matches = session.scalars(
            select(User).where(User.full_name == agent, User.active.is_(True)).limit(2)
        ).all()
        found = matches[0] if len(matches) == 1 else None
    if found is None:
        return None
    viewer = viewer_for(found)
    if not viewer.may_write_customers:
        return None
    if viewer.sees_everything or department_id in (None, viewer.department_id):
        return found
    return None


def _transfer_target(session: Session, contact: Contact, fields: dict[str, Any]) -> dict[str, Any]:
    """Check that whoever a call is handed to can see it; name the colleague's user id."""
    to_user, to_team = fields.get("to_user"), fields.get("to_team")
    if isinstance(to_user, str) and to_user.strip():
        user = session.scalar(
            select(User).where(User.username == to_user.strip(), User.active.is_(True))
        )
        if user is None:
            raise ValidationFailed([FieldError("to_user", f"no colleague named {to_user!r}")])
        target = viewer_for(user)
        if not target.may_write_customers:
            raise ValidationFailed([FieldError("to_user", "a trainee does not take live calls")])
        if not contact_visible(target, contact):
            raise ValidationFailed(
                [
                    FieldError(
                        "to_user",
                        f"{user.full_name} works in another department and cannot see this "
                        "caller: choose a colleague of the caller's department or a supervisor",
                    )
                ]
            )
        return {"to_user_id": user.id}
    if isinstance(to_team, str) and to_team.strip():
        department = session.scalar(select(Department).where(Department.name == to_team.strip()))
        if department is None:
            raise ValidationFailed([FieldError("to_team", f"no team named {to_team!r}")])
        if contact.department_id not in (None, department.id):
            raise ValidationFailed(
                [FieldError("to_team", f"team {department.name} cannot see this caller")]
            )
    return {}
