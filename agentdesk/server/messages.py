"""Messages on the server: taking them, who may see them, their steps, and escalation.

A message is seen by whoever took it, everyone it has been for, the members of a team it was
left for, and supervisors. The rules are the core's own
(:mod:`agentdesk.domain.messages`), so a desk that took a message offline and the server
agree on the result.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.orm import Session

from agentdesk.domain.contacts import open_promises
from agentdesk.domain.errors import FieldError, ValidationFailed
from agentdesk.domain.messages import (
    Escalation,
    Recipient,
    apply_message_op,
    escalations,
    new_message,
)
from agentdesk.server.accounts import Viewer, customer_visibility, viewer_for
from agentdesk.server.audit import note_change
from agentdesk.server.contacts import actor_for, contact_visible
from agentdesk.server.db import lock_seq, next_seq
from agentdesk.server.events import record_event
from agentdesk.server.models import (
    Contact,
    Customer,
    Department,
    Message,
    MessageParty,
    User,
    utcnow,
)
from agentdesk.wire import Mutation


class MessageNotFound(LookupError):
    """No such message, or none the viewer may see."""


def message_record(row: Message) -> dict[str, Any]:
    return {**row.data, "id": row.id, "version": row.version, "state": row.state}


def find_recipient(
    session: Session, username: str, team: str
) -> tuple[Recipient, User | None, Department | None]:
    """Whom a message names, as the directory knows them (an empty Recipient if nobody)."""
    if username.strip():
        user = session.scalar(
            select(User).where(User.username == username.strip(), User.active.is_(True))
        )
        if user is None or not viewer_for(user).may_read_customers:
            return Recipient(), None, None
        department = session.get(Department, user.department_id) if user.department_id else None
        found = Recipient(
            username=user.username,
            full_name=user.full_name,
            user_id=user.id,
            team=department.name if department else "",
        )
        return found, user, None
    if team.strip():
        department = session.scalar(select(Department).where(Department.name == team.strip()))
        if department is None:
            return Recipient(), None, None
        return Recipient(team=department.name), None, department
    return Recipient(), None, None


def message_visibility(viewer: Viewer) -> ColumnElement[bool]:
    if viewer.sees_everything:
        return true()
    parties = select(MessageParty.message_id).where(MessageParty.user_id == viewer.user_id)
    if viewer.department_id is None or not viewer.may_read_customers:
        return Message.id.in_(parties)
    return or_(Message.id.in_(parties), Message.for_department_id == viewer.department_id)


def _audience(session: Session, row: Message) -> set[str]:
    """Users who should hear of a change now: the parties and a team's members."""
    users = set(
        session.scalars(select(MessageParty.user_id).where(MessageParty.message_id == row.id))
    )
    if row.for_department_id is not None:
        users |= set(
            session.scalars(
                select(User.id).where(
                    User.department_id == row.for_department_id,
                    User.active.is_(True),
                    User.role != "trainee",  # trainees never see real callers
                )
            )
        )
    return users


def _add_party(session: Session, message_id: str, user_id: str | None) -> None:
    if user_id and session.get(MessageParty, (message_id, user_id)) is None:
        session.add(MessageParty(message_id=message_id, user_id=user_id))


def apply_message_mutation(session: Session, viewer: Viewer, mutation: Mutation) -> Message:
    """Take a message or carry out one step on it; raises ValidationFailed naming the field,
    or MessageNotFound."""
    if not viewer.may_write_customers:
        raise ValidationFailed([FieldError("role", "your role may not take messages")])
    lock_seq(session)
    now = utcnow()
    actor = actor_for(session, viewer)
    message_id = str(mutation.entity_id)
    fields = dict(mutation.fields)
    row = session.scalar(select(Message).where(Message.id == message_id).with_for_update())
    before = message_record(row) if row is not None else None
    if mutation.op == "create":
        if row is not None:
            raise ValidationFailed([FieldError("id", "a message with this id exists")])
        recipient, user, department = find_recipient(
            session, str(fields.get("for_user") or ""), str(fields.get("for_team") or "")
        )
        record = new_message(fields, actor, recipient, message_id=message_id, now=now)
        _keep_visible_links(session, viewer, record)
        row = Message(id=message_id, version=0, seq=next_seq(session), taken_by_id=actor.user_id)
        row.for_user_id = user.id if user else None
        row.for_department_id = department.id if department else None
        _store(row, record)
        session.add(row)
        session.flush()
        _add_party(session, message_id, actor.user_id)
        _add_party(session, message_id, row.for_user_id)
    else:
        if row is None or not _may_see(session, viewer, row):
            raise MessageNotFound(message_id)
        recipient = None
        if mutation.op == "hand_on":
            recipient, user, department = find_recipient(
                session, str(fields.get("to_user") or ""), str(fields.get("to_team") or "")
            )
        record = apply_message_op(
            message_record(row), mutation.op, fields, actor, now=now, recipient=recipient
        )
        # Whoever acts on a message keeps seeing what becomes of it; so do the members of a
        # team it leaves.
        _add_party(session, message_id, actor.user_id)
        if mutation.op == "hand_on":
            if row.for_department_id is not None:
                for member in session.scalars(
                    select(User.id).where(User.department_id == row.for_department_id)
                ):
                    _add_party(session, message_id, member)
            row.for_user_id = user.id if user else None
            row.for_department_id = department.id if department else None
            _add_party(session, message_id, row.for_user_id)
        row.seq = next_seq(session)
        _store(row, record)
    row.version += 1
    row.updated_at = now
    session.flush()
    after = message_record(row)
    note_change(
        session,
        user_id=viewer.user_id,
        entity="message",
        entity_id=message_id,
        op=mutation.op,
        before=before,
        after=after,
        customer_id=after.get("customer_id"),
    )
    record_event(session, "message", after, None, audience=_audience(session, row))
    return row


def _store(row: Message, record: dict[str, Any]) -> None:
    row.state = record["state"]
    row.urgency = record["urgency"]
    row.callback_before = dt.datetime.fromisoformat(record["callback_before"])
    row.data = {k: v for k, v in record.items() if k not in ("id", "version", "state")}


def _keep_visible_links(session: Session, viewer: Viewer, record: dict[str, Any]) -> None:
    """A message links only to a call and a sheet the taker may see. A link that does not
    hold (the call was never synced, say) is dropped: the message itself matters more."""
    contact_id = record.get("contact_id")
    if contact_id:
        contact = session.get(Contact, contact_id)
        if contact is None or not contact_visible(viewer, contact):
            record["contact_id"] = None
    customer_id = record.get("customer_id")
    if customer_id:
        found = session.scalar(
            select(Customer.id).where(Customer.id == customer_id, customer_visibility(viewer))
        )
        if found is None:
            record["customer_id"] = None


def _may_see(session: Session, viewer: Viewer, row: Message) -> bool:
    if viewer.sees_everything:
        return True
    if (
        viewer.may_read_customers
        and viewer.department_id is not None
        and row.for_department_id == viewer.department_id
    ):
        return True
    return session.get(MessageParty, (row.id, viewer.user_id)) is not None


def get_message(session: Session, viewer: Viewer, message_id: str) -> Message:
    row = session.get(Message, message_id)
    if row is None or not _may_see(session, viewer, row):
        raise MessageNotFound(message_id)
    return row


def list_messages(
    session: Session,
    viewer: Viewer,
    *,
    mine: bool = False,
    state: str | None = None,
    overdue: bool = False,
    now: dt.datetime | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Messages the viewer may see, soonest callback first.

    ``mine``: only those now for the viewer (by name or through their team).
    """
    query = select(Message).where(message_visibility(viewer))
    if mine:
        conditions = [Message.for_user_id == viewer.user_id]
        if viewer.department_id is not None:
            conditions.append(Message.for_department_id == viewer.department_id)
        query = query.where(or_(*conditions))
    if state:
        query = query.where(Message.state == state)
    if overdue:
        query = query.where(
            Message.state != "called_back", Message.callback_before < (now or utcnow())
        )
    rows = session.scalars(query.order_by(Message.callback_before, Message.id).limit(limit))
    return [message_record(row) for row in rows]


def escalated(session: Session, viewer: Viewer, now: dt.datetime) -> list[Escalation]:
    """Overdue callbacks and promises: a supervisor's list covers everyone, an agent's their
    own."""
    messages = list_messages(
        session, viewer, mine=not viewer.sees_everything, overdue=True, now=now
    )
    contacts = select(Contact)
    if not viewer.sees_everything:
        contacts = contacts.where(Contact.owner_id == viewer.user_id)
    promises = [
        promise
        for promise in open_promises(
            {"id": c.id, "promises": c.data.get("promises") or []}
            for c in session.scalars(contacts)
            if c.data.get("promises")
        )
        if viewer.sees_everything or promise.get("owner_id") == viewer.user_id
    ]
    return escalations(messages, promises, now)
