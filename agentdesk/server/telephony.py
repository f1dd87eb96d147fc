"""Call events from phone systems become contact records.

Two ways in: AgentDesk's own JSON events, and the generic CTI payload that Zammad-ready
phone systems already send (``event=newCall|answer|hangup``). Every event is idempotent: a
phone system that repeats itself never makes a second record or moves a call backwards.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agentdesk.domain.customers import normalise_phone
from agentdesk.domain.errors import FieldError, FieldValueError, ValidationFailed
from agentdesk.server import security
from agentdesk.server.contacts import aware as _aware
from agentdesk.server.contacts import contact_record, owner_for_agent
from agentdesk.server.db import lock_seq, next_seq
from agentdesk.server.events import record_event
from agentdesk.server.models import Bridge, Contact, Customer, CustomerPhone, utcnow

CallKind = Literal["ringing", "answered", "hangup"]
NATIVE_KINDS: Final = ("ringing", "answered", "hangup")
ZAMMAD_KINDS: Final[dict[str, CallKind]] = {
    "newCall": "ringing",
    "answer": "answered",
    "hangup": "hangup",
}
MAX_TEXT = 128


@dataclass(frozen=True)
class CallEvent:
    """One thing that happened to a call, whichever phone system said it."""

    kind: CallKind
    call_id: str
    caller: str = ""
    called: str = ""
    queue: str = ""
    direction: str = "in"
    agent: str = ""
    cause: str = ""
    at: dt.datetime | None = None


def _text(
    errors: list[FieldError], data: Mapping[str, Any], key: str, *, required: bool = False
) -> str:
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str | int):
        errors.append(FieldError(key, "expected text"))
        return ""
    text = str(value).strip()
    if required and not text:
        errors.append(FieldError(key, "is required"))
    if len(text) > MAX_TEXT:
        errors.append(FieldError(key, f"is too long: at most {MAX_TEXT} characters"))
    return text[:MAX_TEXT]


def _time(errors: list[FieldError], value: Any, key: str) -> dt.datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        errors.append(FieldError(key, "expected an ISO 8601 time such as 2026-11-23T09:30:00Z"))
        return None
    if parsed.tzinfo is None:
        errors.append(FieldError(key, "needs a time zone offset, e.g. Z or +01:00"))
        return None
    return parsed.astimezone(dt.UTC)


def parse_native(data: Mapping[str, Any]) -> CallEvent:
    """AgentDesk's own event: ``{"event", "call_id", "from", "to", "queue", "agent", …}``."""
    errors: list[FieldError] = []
    kind = _text(errors, data, "event", required=True)
    if kind and kind not in NATIVE_KINDS:
        errors.append(FieldError("event", f"must be one of {', '.join(NATIVE_KINDS)}"))
    event = CallEvent(
        kind=kind,  # type: ignore[arg-type]
        call_id=_text(errors, data, "call_id", required=True),
        caller=_text(errors, data, "from"),
        called=_text(errors, data, "to"),
        queue=_text(errors, data, "queue"),
        direction=_text(errors, data, "direction") or "in",
        agent=_text(errors, data, "agent"),
        cause=_text(errors, data, "cause"),
        at=_time(errors, data.get("at"), "at"),
    )
    if event.direction not in ("in", "out"):
        errors.append(FieldError("direction", "must be in or out"))
    if errors:
        raise ValidationFailed(errors)
    return event


def parse_zammad(data: Mapping[str, Any]) -> CallEvent:
    """The generic CTI payload: ``event``, ``from``, ``to``, ``direction``, ``callId``,
    ``user``, ``queue``, ``cause``, ``answeringNumber``."""
    errors: list[FieldError] = []
    raw = _text(errors, data, "event", required=True)
    if raw and raw not in ZAMMAD_KINDS:
        errors.append(FieldError("event", f"must be one of {', '.join(ZAMMAD_KINDS)}"))
    user = data.get("user", "")
    if isinstance(user, list):  # several agent names may be posted as user[]
        user = ", ".join(str(u) for u in user)
    direction = _text(errors, data, "direction") or "in"
    event = CallEvent(
        kind=ZAMMAD_KINDS.get(raw, "ringing"),
        call_id=_text(errors, data, "callId", required=True),
        caller=_text(errors, data, "from"),
        called=_text(errors, data, "to"),
        queue=_text(errors, data, "queue"),
        direction=direction if direction in ("in", "out") else "in",
        agent=_text(errors, {"user": user}, "user") or _text(errors, data, "answeringNumber"),
        cause=_text(errors, data, "cause"),
    )
    if errors:
        raise ValidationFailed(errors)
    return event


# --- bridges ------------------------------------------------------------------------------


def add_bridge(session: Session, name: str) -> tuple[Bridge, str]:
    """Register a phone system; returns it and its token (shown once, stored hashed)."""
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed([FieldError("name", "is required")])
    if session.scalar(select(Bridge).where(Bridge.name == name)) is not None:
        raise ValidationFailed([FieldError("name", f"a bridge named {name!r} already exists")])
    token, token_hash = security.new_refresh_token()
    bridge = Bridge(id=str(uuid.uuid4()), name=name, token_hash=token_hash, active=True)
    session.add(bridge)
    session.flush()
    return bridge, token


def rotate_bridge_token(session: Session, name: str) -> str:
    """A new token for the bridge ``name`` (created if missing); the old token stops working."""
    bridge = session.scalar(select(Bridge).where(Bridge.name == name))
    if bridge is None:
        return add_bridge(session, name)[1]
    token, bridge.token_hash = security.new_refresh_token()
    bridge.active = True
    session.flush()
    return token


def bridge_for_token(session: Session, token: str) -> Bridge | None:
    if not token:
        return None
    bridge = session.scalar(select(Bridge).where(Bridge.token_hash == security.digest(token)))
    return bridge if bridge is not None and bridge.active else None


# --- callers ------------------------------------------------------------------------------


def normalise_caller(number: str, default_region: str | None) -> str | None:
    """The caller's number in E.164, or None for withheld or unparseable numbers."""
    try:
        return normalise_phone(number, default_region)
    except FieldValueError:
        return None


def customers_with_number(session: Session, e164: str) -> list[Customer]:
    ids = select(CustomerPhone.customer_id).where(CustomerPhone.number == e164)
    return list(
        session.scalars(select(Customer).where(Customer.id.in_(ids)).order_by(Customer.name))
    )


# --- applying events ----------------------------------------------------------------------


def _touch(session: Session, contact: Contact) -> None:
    contact.version += 1
    contact.seq = next_seq(session)
    contact.updated_at = utcnow()


def _department_of(matches: list[Customer]) -> int | None:
    """The department of the caller's customers, when they all share one."""
    departments = {m.department_id for m in matches}
    return departments.pop() if len(departments) == 1 else None


def _new_contact(
    session: Session, bridge: Bridge, event: CallEvent, at: dt.datetime, region: str | None
) -> Contact:
    e164 = normalise_caller(event.caller, region) if event.direction == "in" else None
    matches = customers_with_number(session, e164) if e164 else []
    customer = matches[0] if len(matches) == 1 else None
    contact = Contact(
        id=str(uuid.uuid4()),
        version=1,
        seq=next_seq(session),
        department_id=_department_of(matches),
        channel="phone",
        direction=event.direction,
        bridge_id=bridge.id,
        call_id=event.call_id,
        caller_number=e164 or event.caller,
        called_number=event.called,
        queue=event.queue,
        customer_id=customer.id if customer else None,
        # A number several customers share is served at the highest tier among them: the
        # caller may be the critical one.
        tier=customer.tier if customer else ("A" if any(m.tier == "A" for m in matches) else "B"),
        state="ringing",
        offered_at=at,
        answered_at=None,
        ended_at=None,
        hangup_cause="",
        answered_by="",
        data={
            "candidates": [c.id for c in matches] if len(matches) > 1 else [],
            "caller_name": customer.name if customer else "",
        },
    )
    session.add(contact)
    return contact


def apply_call_event(
    session: Session,
    bridge: Bridge,
    event: CallEvent,
    *,
    default_region: str | None = None,
    now: dt.datetime | None = None,
) -> Contact:
    """Create or move the call's contact record; repeated or late events change nothing."""
    at = event.at or now or utcnow()
    lock_seq(session)  # every writer takes the sequence lock first: no deadlocks
    contact = session.scalar(
        select(Contact)
        .where(Contact.bridge_id == bridge.id, Contact.call_id == event.call_id)
        .with_for_update()
    )
    if contact is None:
        try:
            with session.begin_nested():
                contact = _new_contact(session, bridge, event, at, default_region)
                session.flush()
        except IntegrityError:
            # The same call arrived twice at once; the other request created it.
            contact = session.scalar(
                select(Contact).where(
                    Contact.bridge_id == bridge.id, Contact.call_id == event.call_id
                )
            )
            assert contact is not None
        else:
            _announce(session, contact)
        if event.kind == "ringing":
            return contact
    if _advance(session, contact, event, at):
        _announce(session, contact)
    session.flush()
    return contact


def _announce(session: Session, contact: Contact) -> None:
    record_event(session, "contact", contact_record(contact), contact.department_id)


def _advance(session: Session, contact: Contact, event: CallEvent, at: dt.datetime) -> bool:
    """Move the call on; False when the event changes nothing (repeated or too late)."""
    if event.kind == "answered" and contact.state == "ringing":
        contact.state = "answered"
        contact.answered_at = max(at, _aware(contact.offered_at))
        contact.answered_by = event.agent
        owner = owner_for_agent(session, event.agent, contact.department_id)
        if owner is not None and contact.owner_id is None:
            if contact.department_id is None:
                contact.department_id = owner.department_id
            # The phone system says who picked up: the contact pops on that agent's desk.
            contact.owner_id = owner.id
            contact.data = {**contact.data, "owner_name": owner.full_name or owner.username}
        _touch(session, contact)
        return True
    elif event.kind == "hangup" and contact.state in ("ringing", "answered"):
        ended = max(at, _aware(contact.offered_at))
        contact.ended_at = ended
        contact.hangup_cause = event.cause
        if contact.state == "ringing":
            contact.state = "abandoned"
            contact.data = {
                **contact.data,
                "waited_s": (ended - _aware(contact.offered_at)).total_seconds(),
            }
        else:
            contact.state = "ended"
        _touch(session, contact)
    else:
        return False
    return True
