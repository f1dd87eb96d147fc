"""Visits on the server: scheduling, who may see them, and the engineer's steps.

A visit is seen by its engineer, the customer's department and supervisors. Scheduling one
also lets the engineer see the customer's sheet and contact history (the equipment sheet
they read before leaving), from the next pull on. The rules are the core's own
(:mod:`agentdesk.domain.visits`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, or_, select, true, update
from sqlalchemy.orm import Session

from agentdesk.domain.errors import FieldError, ValidationFailed
from agentdesk.domain.visits import Engineer, apply_visit_op, new_visit
from agentdesk.server.accounts import Viewer, active_user, customer_visibility
from agentdesk.server.audit import note_change
from agentdesk.server.contacts import actor_for
from agentdesk.server.db import lock_seq, next_seq
from agentdesk.server.events import record_event
from agentdesk.server.models import Contact, Customer, User, Visit, utcnow
from agentdesk.wire import Mutation

#: Roles a visit can be given to.
ENGINEER_ROLES = ("engineer",)


class VisitNotFound(LookupError):
    """No such visit, or none the viewer may see."""


def visit_record(row: Visit) -> dict[str, Any]:
    return {**row.data, "id": row.id, "version": row.version, "state": row.state}


def visit_visibility(viewer: Viewer) -> ColumnElement[bool]:
    if viewer.sees_everything:
        return true()
    mine = Visit.engineer_id == viewer.user_id
    if viewer.department_id is None or not viewer.may_read_customers:
        return mine
    return or_(mine, Visit.department_id == viewer.department_id)


def may_see(viewer: Viewer, row: Visit) -> bool:
    if viewer.sees_everything or row.engineer_id == viewer.user_id:
        return True
    return viewer.may_read_customers and row.department_id == viewer.department_id


def find_engineer(session: Session, username: str) -> tuple[Engineer, User | None]:
    user = active_user(session, username, ENGINEER_ROLES)
    if user is None:
        return Engineer(), None
    return Engineer(username=user.username, full_name=user.full_name, user_id=user.id), user


def apply_visit_mutation(session: Session, viewer: Viewer, mutation: Mutation) -> Visit:
    """Schedule a visit or carry out one step on it; raises ValidationFailed naming the field,
    or VisitNotFound."""
    if not viewer.may_write_customers:
        raise ValidationFailed([FieldError("role", "your role may not schedule visits")])
    lock_seq(session)
    now = utcnow()
    actor = actor_for(session, viewer)
    visit_id = str(mutation.entity_id)
    fields = dict(mutation.fields)
    row = session.scalar(select(Visit).where(Visit.id == visit_id).with_for_update())
    before = visit_record(row) if row is not None else None
    if mutation.op == "create":
        if row is not None:
            raise ValidationFailed([FieldError("id", "a visit with this id exists")])
        customer = session.scalar(
            select(Customer).where(
                Customer.id == str(fields.get("customer_id") or ""), customer_visibility(viewer)
            )
        )
        engineer, user = find_engineer(session, str(fields.get("engineer") or ""))
        record = new_visit(
            fields,
            actor,
            engineer,
            visit_id=visit_id,
            now=now,
            customer_name=customer.name if customer is not None else "",
        )
        if customer is None:
            raise ValidationFailed([FieldError("customer_id", "no such customer")])
        assert user is not None
        row = Visit(
            id=visit_id,
            version=0,
            seq=next_seq(session),
            department_id=customer.department_id,
            customer_id=customer.id,
            engineer_id=user.id,
        )
        _store(row, record)
        session.add(row)
        _show_to_engineer(session, customer)
    else:
        if row is None or not may_see(viewer, row):
            raise VisitNotFound(visit_id)
        record = apply_visit_op(visit_record(row), mutation.op, fields, actor, now=now)
        row.seq = next_seq(session)
        _store(row, record)
    row.version += 1
    row.updated_at = now
    session.flush()
    note_change(
        session,
        user_id=viewer.user_id,
        entity="visit",
        entity_id=visit_id,
        op=mutation.op,
        before=before,
        after=visit_record(row),
        customer_id=row.customer_id,
    )
    audience = {row.engineer_id}
    if mutation.op == "running_late":
        audience |= _contact_owner(session, record)
    record_event(session, "visit", visit_record(row), row.department_id, audience=audience)
    return row


def _store(row: Visit, record: dict[str, Any]) -> None:
    row.state = record["state"]
    row.window_start = dt.datetime.fromisoformat(record["window_start"])
    row.data = {k: v for k, v in record.items() if k not in ("id", "version", "state")}


def _contact_owner(session: Session, record: dict[str, Any]) -> set[str]:
    """Whoever owns the contact the visit came from hears that the engineer runs late."""
    contact_id = record.get("contact_id")
    if not contact_id:
        return set()
    contact = session.get(Contact, contact_id)
    return {contact.owner_id} if contact is not None and contact.owner_id else set()


def _show_to_engineer(session: Session, customer: Customer) -> None:
    """The customer's sheet and contacts reach the engineer's desk with the next pull (they
    are sent again; desks that hold them already skip them by version)."""
    customer.seq = next_seq(session)
    for contact_id in session.scalars(select(Contact.id).where(Contact.customer_id == customer.id)):
        session.execute(
            update(Contact).where(Contact.id == contact_id).values(seq=next_seq(session))
        )


def list_visits(
    session: Session,
    viewer: Viewer,
    *,
    mine: bool = False,
    customer_id: str | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    query = select(Visit).where(visit_visibility(viewer))
    if mine:
        query = query.where(Visit.engineer_id == viewer.user_id)
    if customer_id:
        query = query.where(Visit.customer_id == customer_id)
    rows = session.scalars(query.order_by(Visit.window_start, Visit.id).limit(limit))
    return [visit_record(row) for row in rows]


def get_visit(session: Session, viewer: Viewer, visit_id: str) -> Visit:
    row = session.get(Visit, visit_id)
    if row is None or not may_see(viewer, row):
        raise VisitNotFound(visit_id)
    return row
