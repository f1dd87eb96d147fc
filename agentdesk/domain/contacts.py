"""Incoming contacts: who waits, in which order, and how urgent the answer has become.

Rules from the help desk's practice: tier A customers (core operations) are served at once,
before anyone of tier B; within a tier, first come first served. A phone is answered by the
second ring, the third at the latest ("after three rings patience drops and distrust
begins"). Every rule here takes the time as an argument so it can be tested without waiting.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from agentdesk.domain.errors import FieldError, ValidationFailed, has_unprintable

Channel = Literal["phone", "email", "im", "walk-in"]
CHANNELS: Final[dict[str, str]] = {
    "phone": "Phone",
    "email": "E-mail",
    "im": "Instant message",
    "walk-in": "Walk-in",
}

#: Seconds from one ring to the next (a European ring cadence: about a second of tone and
#: four of silence, plus the gap before the first ring).
RING_PERIOD_S: Final = 5.0
#: Answer by this ring…
ANSWER_TARGET_RING: Final = 2
#: …and never after this one.
ANSWER_LIMIT_RING: Final = 3


class Urgency(enum.Enum):
    """How the panel colours a waiting call."""

    ON_TIME = "on time"
    DUE = "due"  # the target ring has come: answer now (amber)
    LATE = "late"  # past the last acceptable ring (red)


def ring_count(waited_s: float, period_s: float = RING_PERIOD_S) -> int:
    """The ring the caller is hearing after ``waited_s`` seconds (the first ring is 1)."""
    if waited_s < 0:
        return 1
    return int(waited_s // period_s) + 1


def answer_urgency(rings: int) -> Urgency:
    """Amber from the target ring, red once the last acceptable ring has passed."""
    if rings > ANSWER_LIMIT_RING:
        return Urgency.LATE
    if rings >= ANSWER_TARGET_RING:
        return Urgency.DUE
    return Urgency.ON_TIME


@dataclass(frozen=True)
class WaitingContact:
    """One contact in the queue, as the panel needs it."""

    id: str
    channel: Channel
    tier: str  # "A" or "B"; unknown callers are served as B
    offered_at: float  # monotonic seconds
    caller: str  # the customer's name, or the formatted number
    customer_id: str | None = None

    def waited(self, now: float) -> float:
        return max(0.0, now - self.offered_at)

    def rings(self, now: float, period_s: float = RING_PERIOD_S) -> int:
        return ring_count(self.waited(now), period_s)

    def urgency(self, now: float, period_s: float = RING_PERIOD_S) -> Urgency:
        """Phone calls ring; other channels are never "late" by rings."""
        if self.channel != "phone":
            return Urgency.ON_TIME
        return answer_urgency(self.rings(now, period_s))


def queue_order(contacts: Iterable[WaitingContact]) -> list[WaitingContact]:
    """Tier A before tier B; first come, first served within a tier (ties by id)."""
    return sorted(contacts, key=lambda c: (0 if c.tier == "A" else 1, c.offered_at, c.id))


# --- the contact record -------------------------------------------------------------------

OUTCOMES: Final[dict[str, str]] = {
    "solved": "Solved in the first contact",
    "follow-up": "Follow-up needed",
    "escalated": "Escalated",
    "transferred": "Transferred",
}
CATEGORIES: Final[tuple[str, ...]] = (
    "hardware",
    "software",
    "network",
    "account and access",
    "printing",
    "e-mail",
    "telephony",
    "complaint",
    "training",
    "other",
)
#: Words that put off a promise instead of making one (DOMAIN §8: give a date and time).
VAGUE_TIME_WORDS: Final[tuple[str, ...]] = (
    "asap",
    "as soon as possible",
    "soon",
    "later",
    "尽快",
    "snarest",
    "så fort som mulig",
)
MAX_NOTE = 4000
#: A note is the agent's own record; a reply is what was written to the customer (e-mail, IM).
NOTE_KINDS: Final[tuple[str, ...]] = ("note", "reply")


def check_promise(text: str, due_at: dt.datetime | None, *, now: dt.datetime) -> list[FieldError]:
    """A promise to a customer names what will happen and a concrete time in the future."""
    errors: list[FieldError] = []
    cleaned = " ".join(text.split())
    if not cleaned:
        errors.append(FieldError("text", "say what you promise, e.g. “a new disk is installed”"))
    lowered = cleaned.casefold()
    vague = next((w for w in VAGUE_TIME_WORDS if _has_phrase(lowered, w)), None)
    if vague is not None:
        errors.append(
            FieldError(
                "text",
                f"“{vague}” is not a time: give the date and time in the due field instead",
            )
        )
    if due_at is None:
        errors.append(FieldError("due_at", "give a concrete date and time, never “ASAP”"))
    elif due_at.tzinfo is None:
        errors.append(FieldError("due_at", "needs a time zone (the desk stores UTC)"))
    elif due_at <= now:
        errors.append(FieldError("due_at", "must be in the future"))
    return errors


def _has_phrase(text: str, phrase: str) -> bool:
    if not phrase.isascii():
        return phrase in text
    return re.search(rf"(?<![\w]){re.escape(phrase)}(?![\w])", text) is not None


def check_note(text: str) -> list[FieldError]:
    cleaned = text.strip()
    if not cleaned:
        return [FieldError("text", "is empty: write what happened or what was agreed")]
    if len(cleaned) > MAX_NOTE:
        return [FieldError("text", f"is too long: at most {MAX_NOTE} characters")]
    return []


def check_wrap_up(category: str, outcome: str, handed_to: str | None) -> list[FieldError]:
    """Wrap-up names a category and an outcome; a hand-over names the person who takes it."""
    errors: list[FieldError] = []
    if category not in CATEGORIES:
        errors.append(FieldError("category", f"choose one of: {', '.join(CATEGORIES)}"))
    if outcome not in OUTCOMES:
        errors.append(FieldError("outcome", f"choose one of: {', '.join(OUTCOMES)}"))
    if outcome in ("escalated", "transferred") and not (handed_to or "").strip():
        errors.append(
            FieldError(
                "handed_to",
                "name the person or team who takes it over (first-question responsibility)",
            )
        )
    return errors


def speed_of_answer(offered_at: dt.datetime, answered_at: dt.datetime | None) -> float | None:
    """Seconds the caller waited before an agent answered."""
    if answered_at is None:
        return None
    return max(0.0, (answered_at - offered_at).total_seconds())


# --- what happens to a contact record -----------------------------------------------------

#: A call rings, is answered, ends; a caller who hangs up first has abandoned it. Contacts
#: logged by hand (e-mail, IM, walk-in) start answered.
STATES: Final[tuple[str, ...]] = ("ringing", "answered", "ended", "abandoned")
#: What a desk may do to a contact; each is one outbox mutation.
OPS: Final[tuple[str, ...]] = (
    "create",
    "answer",
    "end",
    "wrap_up",
    "note",
    "promise",
    "link",
    "hold",
    "check_back",
    "resume",
    "transfer",
    "transfer_answer",
    "withdraw_transfer",
    "keep_promise",
)
HOLD_ENDS: Final[tuple[str, ...]] = ("resumed", "transferred", "hung up")
TRANSFER_MODES: Final[tuple[str, ...]] = ("warm", "blind")
MAX_ANNOUNCEMENT = 1000
MAX_CALLER = 200
MAX_ADDRESS = 64  # an e-mail address, an IM handle or a number
MAX_ID = 64
MAX_ACW_S = 24 * 3600


@dataclass(frozen=True)
class Actor:
    """Who does something to a contact."""

    user_id: str
    username: str
    full_name: str = ""
    supervisor: bool = False
    department: str = ""

    @property
    def label(self) -> str:
        return self.full_name or self.username


class ContactRefused(ValidationFailed):
    """The contact cannot take this step now (someone else answered it, the caller hung up)."""


def parse_time(value: Any, field: str) -> dt.datetime:
    """An ISO 8601 time with an offset, as UTC; raises ValidationFailed naming ``field``."""
    expected = "expected an ISO 8601 time such as 2026-11-23T09:30:00+01:00"
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationFailed([FieldError(field, expected)]) from None
    else:
        raise ValidationFailed([FieldError(field, expected)])
    if parsed.tzinfo is None:
        raise ValidationFailed([FieldError(field, "needs a time zone offset, e.g. Z or +01:00")])
    try:
        utc = parsed.astimezone(dt.UTC)
    except OverflowError:
        raise ValidationFailed([FieldError(field, "is outside the calendar")]) from None
    if not 1970 <= utc.year <= 2999:
        raise ValidationFailed([FieldError(field, "must be between the years 1970 and 2999")])
    return utc


def required_time(
    fields: Mapping[str, Any], key: str, errors: list[FieldError], hint: str
) -> dt.datetime | None:
    """A time a record cannot do without; an empty or bad value adds an error naming ``key``
    (``hint`` says what to give) and gives None."""
    value = fields.get(key)
    if value in (None, ""):
        errors.append(FieldError(key, f"is empty: {hint}"))
        return None
    try:
        return parse_time(value, key)
    except ValidationFailed as failed:
        errors.extend(failed.errors)
        return None


def text_field(
    fields: Mapping[str, Any],
    key: str,
    errors: list[FieldError],
    *,
    max_len: int,
    multiline: bool = False,
) -> str:
    """A text value of a step, cleaned; a wrong type, control characters or too much text
    add an error naming ``key`` (and give "")."""
    value = fields.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.append(FieldError(key, f"expected text, got {type(value).__name__}"))
        return ""
    if has_unprintable(value):
        errors.append(FieldError(key, "contains control characters"))
        return ""
    text = value.strip() if multiline else " ".join(value.split())
    if len(text) > max_len:
        errors.append(FieldError(key, f"is too long: at most {max_len} characters"))
        return ""
    return text


def _required_id(fields: Mapping[str, Any], what: str) -> str:
    errors: list[FieldError] = []
    value = text_field(fields, "id", errors, max_len=MAX_ID)
    if errors:
        raise ValidationFailed(errors)
    if not value:
        raise ValidationFailed([FieldError("id", f"{what} needs its id")])
    return value


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


def _owned_by(record: Mapping[str, Any], actor: Actor) -> bool:
    return record.get("owner_id") in (None, "", actor.user_id) or actor.supervisor


def new_contact_record(
    fields: Mapping[str, Any], actor: Actor, *, contact_id: str, now: dt.datetime
) -> dict[str, Any]:
    """A contact logged by hand (an e-mail, an instant message, a visit at the desk, or a
    call that came past the phone system): answered by the actor, who owns it."""
    errors: list[FieldError] = []
    channel = str(fields.get("channel") or "")
    if channel not in CHANNELS:
        errors.append(FieldError("channel", f"choose one of: {', '.join(CHANNELS)}"))
    before = len(errors)
    caller = text_field(fields, "caller_name", errors, max_len=MAX_CALLER)
    address = text_field(fields, "caller_address", errors, max_len=MAX_ADDRESS)
    customer_id = text_field(fields, "customer_id", errors, max_len=MAX_ID) or None
    if not customer_id and not caller and not address and len(errors) == before:
        errors.append(
            FieldError("caller_name", "name the customer or give their address or number")
        )
    direction = str(fields.get("direction") or "in")
    if direction not in ("in", "out"):
        errors.append(FieldError("direction", "must be in or out"))
    offered = answered = now
    try:
        offered = parse_time(fields.get("offered_at") or now, "offered_at")
    except ValidationFailed as failed:
        errors.extend(failed.errors)
    try:
        answered = parse_time(fields.get("answered_at") or offered, "answered_at")
    except ValidationFailed as failed:
        errors.extend(failed.errors)
    if answered < offered:
        errors.append(FieldError("answered_at", "cannot be before the contact began"))
    if offered > now + dt.timedelta(minutes=5):
        errors.append(FieldError("offered_at", "is in the future"))
    elif answered > now + dt.timedelta(minutes=5):
        errors.append(FieldError("answered_at", "is in the future"))
    tier = str(fields.get("tier") or "B")
    if tier not in ("A", "B"):
        errors.append(FieldError("tier", "must be A or B"))
    if errors:
        raise ValidationFailed(errors)
    return {
        "id": contact_id,
        "channel": channel,
        "direction": direction,
        "call_id": None,
        "caller_number": address,
        "called_number": "",
        "queue": "",
        "customer_id": customer_id,
        "candidates": [],
        "caller_name": caller,
        "tier": tier,
        "state": "answered",
        "offered_at": _iso(offered),
        "answered_at": _iso(answered),
        "ended_at": None,
        "waited_s": None,
        "answered_by": actor.username,
        "hangup_cause": "",
        "owner_id": actor.user_id,
        "owner_name": actor.label,
        "notes": [],
        "promises": [],
        "wrap_up": None,
        "holds": [],
        "transfers": [],
    }


def apply_op(
    record: Mapping[str, Any],
    op: str,
    fields: Mapping[str, Any],
    actor: Actor,
    *,
    now: dt.datetime,
) -> dict[str, Any]:
    """The record after ``actor`` did ``op``; the same rules on the desk and the server.

    Raises :class:`ContactRefused` when the contact is not in a state to take the step and
    :class:`ValidationFailed` for bad input, each naming the field. Repeating a note or a
    promise (same id) changes nothing.
    """
    out = dict(record)
    out.setdefault("notes", [])
    out.setdefault("promises", [])
    out.setdefault("wrap_up", None)
    out.setdefault("owner_id", None)
    out.setdefault("owner_name", "")
    out.setdefault("holds", [])
    out.setdefault("transfers", [])
    state = str(out.get("state", ""))
    if op == "answer":
        at = parse_time(fields.get("answered_at") or now, "answered_at")
        if state == "ringing":
            offered = parse_time(out["offered_at"], "offered_at")
            out.update(
                state="answered",
                answered_at=_iso(max(at, offered)),
                answered_by=actor.username,
            )
        elif state in ("abandoned",):
            raise ContactRefused([FieldError("state", "the caller hung up before the answer")])
        elif out.get("owner_id") and out["owner_id"] != actor.user_id:
            raise ContactRefused(
                [FieldError("owner", f"already answered by {out.get('owner_name') or 'someone'}")]
            )
        out.update(owner_id=actor.user_id, owner_name=actor.label)
        return out
    if op == "link":
        # The caller turned out to be this customer (picked from several, or just created).
        if out.get("wrap_up"):
            raise ContactRefused([FieldError("state", "the contact is wrapped up already")])
        if not _owned_by(out, actor):
            raise ContactRefused(
                [FieldError("owner", f"{out.get('owner_name') or 'another agent'} has it")]
            )
        link_errors: list[FieldError] = []
        customer_id = text_field(fields, "customer_id", link_errors, max_len=MAX_ID)
        if link_errors:
            raise ValidationFailed(link_errors)
        if not customer_id:
            raise ValidationFailed([FieldError("customer_id", "choose the customer")])
        tier = str(fields.get("tier") or "B")
        out.update(
            customer_id=customer_id,
            tier=tier if tier in ("A", "B") else "B",
            caller_name=str(fields.get("caller_name") or out.get("caller_name") or ""),
            candidates=[],
        )
        return out
    if op == "end":
        at = parse_time(fields.get("ended_at") or now, "ended_at")
        if state == "ringing":
            raise ContactRefused([FieldError("state", "answer the contact before ending it")])
        if state == "answered":
            if not _owned_by(out, actor):
                raise ContactRefused(
                    [FieldError("owner", f"{out.get('owner_name') or 'another agent'} has it")]
                )
            answered = parse_time(out.get("answered_at") or out["offered_at"], "answered_at")
            out.update(state="ended", ended_at=_iso(max(at, answered)))
        return out  # ending an ended contact again changes nothing
    if op == "wrap_up":
        if state in ("ringing", "abandoned"):
            raise ContactRefused([FieldError("state", "only an answered contact is wrapped up")])
        if not _owned_by(out, actor):
            raise ContactRefused(
                [FieldError("owner", f"only {out.get('owner_name')} can wrap this contact up")]
            )
        category = str(fields.get("category") or "")
        outcome = str(fields.get("outcome") or "")
        errors: list[FieldError] = []
        handed_to = text_field(fields, "handed_to", errors, max_len=MAX_CALLER)
        errors += check_wrap_up(category, outcome, handed_to)
        wrapped = now
        try:
            wrapped = parse_time(fields.get("wrapped_at") or now, "wrapped_at")
        except ValidationFailed as failed:
            errors.extend(failed.errors)
        acw = _seconds(fields.get("acw_s", 0))
        if acw is None or acw > MAX_ACW_S:
            errors.append(FieldError("acw_s", "expected seconds of after-call work (0 to 86400)"))
            acw = 0
        script = fields.get("script")
        if script is not None and not _valid_adherence(script):
            errors.append(FieldError("script", "expected the script's adherence record"))
        if errors:
            raise ValidationFailed(errors)
        if script is not None:
            out["script"] = script
        out["wrap_up"] = {
            "category": category,
            "outcome": outcome,
            "handed_to": handed_to,
            "wrapped_at": _iso(wrapped),
            "acw_s": round(float(acw), 1),
            "by": actor.label,
        }
        if state == "answered" and outcome != "transferred":
            # Wrap-up closes the conversation on the desk even if the phone system is slow
            # to say so.
            answered = parse_time(out.get("answered_at") or out["offered_at"], "answered_at")
            out.update(state="ended", ended_at=out.get("ended_at") or _iso(max(wrapped, answered)))
        return out
    if op == "note":
        note_id = _required_id(fields, "a note")
        if any(n.get("id") == note_id for n in out["notes"]):
            return out
        errors = []
        text = text_field(fields, "text", errors, max_len=MAX_NOTE, multiline=True)
        if not errors:
            errors = check_note(text)
        kind = str(fields.get("kind") or "note")
        if kind not in NOTE_KINDS:
            errors.append(FieldError("kind", f"choose one of: {', '.join(NOTE_KINDS)}"))
        at = now
        try:
            at = parse_time(fields.get("at") or now, "at")
        except ValidationFailed as failed:
            errors.extend(failed.errors)
        if errors:
            raise ValidationFailed(errors)
        note = {"id": note_id, "text": text.strip(), "at": _iso(at), "by": actor.label}
        if kind != "note":
            note["kind"] = kind
        out["notes"] = [*out["notes"], note]
        return out
    if op == "promise":
        promise_id = _required_id(fields, "a promise")
        if any(p.get("id") == promise_id for p in out["promises"]):
            return out
        errors = []
        text = text_field(fields, "text", errors, max_len=MAX_CALLER)
        made = now
        try:
            made = parse_time(fields.get("at") or now, "at")
        except ValidationFailed as failed:
            errors.extend(failed.errors)
        due: dt.datetime | None = None
        if fields.get("due_at"):
            try:
                due = parse_time(fields["due_at"], "due_at")
            except ValidationFailed as failed:
                errors.extend(failed.errors)
        # A promise is judged against the moment it was made, so one synced late is not
        # refused for having come due in the meantime.
        bad_due = any(e.field == "due_at" for e in errors)
        errors.extend(
            e for e in check_promise(text, due, now=made) if not (bad_due and e.field == "due_at")
        )
        if errors:
            raise ValidationFailed(errors)
        assert due is not None
        promise = {
            "id": promise_id,
            "text": " ".join(text.split()),
            "due_at": _iso(due),
            "at": _iso(made),
            "by": actor.label,
            "owner_id": actor.user_id,
            "customer_id": out.get("customer_id"),
            "done_at": None,
        }
        out["promises"] = [*out["promises"], promise]
        return out
    if op == "keep_promise":
        return _keep_promise(out, fields, actor, now=now)
    if op in ("hold", "check_back", "resume"):
        return _hold_step(out, op, fields, actor, now=now)
    if op in ("transfer", "transfer_answer", "withdraw_transfer"):
        return _transfer_step(out, op, fields, actor, now=now)
    raise ValidationFailed([FieldError("op", f"choose one of: {', '.join(OPS[1:])}")])


def _keep_promise(
    out: dict[str, Any], fields: Mapping[str, Any], actor: Actor, *, now: dt.datetime
) -> dict[str, Any]:
    """A promise is kept: it leaves the open list (and the escalation list) with the time."""
    errors: list[FieldError] = []
    promise_id = text_field(fields, "promise_id", errors, max_len=MAX_ID)
    found = next((p for p in out["promises"] if p.get("id") == promise_id), None)
    if not errors and found is None:
        errors.append(FieldError("promise_id", "no such promise on this contact"))
    if errors:
        raise ValidationFailed(errors)
    assert found is not None
    if found.get("done_at"):
        return out  # kept already
    if found.get("owner_id") not in (None, actor.user_id) and not actor.supervisor:
        raise ContactRefused(
            [FieldError("promise_id", f"only {found.get('by')} or a supervisor can close it")]
        )
    at = _step_time(fields, "at", now)
    kept = {**found, "done_at": _iso(at), "done_by": actor.label}
    out["promises"] = [kept if p.get("id") == promise_id else p for p in out["promises"]]
    return out


def _valid_adherence(value: Any) -> bool:
    """A script adherence record as the desk makes it (see ScriptRun.adherence), kept small."""
    if not isinstance(value, Mapping):
        return False
    if not isinstance(value.get("script"), str) or not isinstance(value.get("path"), list):
        return False
    if not all(isinstance(step, str) for step in value["path"]) or len(value["path"]) > 200:
        return False
    return len(json.dumps(value, ensure_ascii=False)) <= 20_000


def _seconds(value: Any) -> float | None:
    """A finite, non-negative number of seconds, or None."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except OverflowError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _step_time(fields: Mapping[str, Any], key: str, now: dt.datetime) -> dt.datetime:
    return parse_time(fields.get(key) or now, key)


def _hold_step(
    out: dict[str, Any], op: str, fields: Mapping[str, Any], actor: Actor, *, now: dt.datetime
) -> dict[str, Any]:
    """Hold segments on the record: when, why, each check-back, and how the hold ended."""
    hold_id = _required_id(fields, "a hold")
    holds: list[dict[str, Any]] = [dict(h) for h in out.get("holds") or []]
    found = next((h for h in holds if h.get("id") == hold_id), None)
    if op == "hold":
        if found is not None:
            return out  # the same hold again
        if out.get("state") != "answered":
            raise ContactRefused([FieldError("state", "only a call in progress can be held")])
        if out.get("channel") in ("email", "im"):
            raise ContactRefused(
                [FieldError("channel", "a written contact has nobody on the line to hold")]
            )
        if not _owned_by(out, actor):
            raise ContactRefused(
                [FieldError("owner", f"{out.get('owner_name') or 'another agent'} has this call")]
            )
        from agentdesk.domain.hold import HOLD_REASONS

        reason = str(fields.get("reason") or "")
        if reason not in HOLD_REASONS:
            raise ValidationFailed(
                [FieldError("reason", f"choose one of: {', '.join(HOLD_REASONS)}")]
            )
        start = _step_time(fields, "at", now)
        holds.append(
            {
                "id": hold_id,
                "reason": reason,
                "start": _iso(start),
                "end": None,
                "how": None,
                "check_backs": [],
                "by": actor.label,
                "by_user": actor.username,
            }
        )
        out["holds"] = holds
        return out
    if found is None:
        raise ValidationFailed([FieldError("id", "no hold with this id on the contact")])
    # The agent who put the caller on hold closes the hold, also after a colleague took the
    # call over.
    if not (_owned_by(out, actor) or found.get("by_user") == actor.username):
        raise ContactRefused(
            [FieldError("owner", f"{out.get('owner_name') or 'another agent'} has this call")]
        )
    if op == "check_back":
        at = _step_time(fields, "at", now)
        late = _seconds(fields.get("late_s", 0))
        if late is None:
            raise ValidationFailed([FieldError("late_s", "expected seconds (0 or more)")])
        if found.get("end") is None and not any(
            c.get("at") == _iso(at) for c in found["check_backs"]
        ):
            found["check_backs"] = [
                *found["check_backs"],
                {"at": _iso(at), "late_s": round(late, 1) + 0.0},
            ]
        out["holds"] = holds
        return out
    # resume: the hold ends (resumed, transferred, or the caller hung up)
    how = str(fields.get("how") or "resumed")
    if how not in HOLD_ENDS:
        raise ValidationFailed([FieldError("how", f"choose one of: {', '.join(HOLD_ENDS)}")])
    if found.get("end") is None:
        start = parse_time(found["start"], "start")
        found.update(end=_iso(max(_step_time(fields, "at", now), start)), how=how)
    out["holds"] = holds
    return out


def _transfer_step(
    out: dict[str, Any], op: str, fields: Mapping[str, Any], actor: Actor, *, now: dt.datetime
) -> dict[str, Any]:
    """Transfers on the record: to whom, warm or blind, and whether it was accepted."""
    transfer_id = _required_id(fields, "a transfer")
    transfers: list[dict[str, Any]] = [dict(t) for t in out.get("transfers") or []]
    found = next((t for t in transfers if t.get("id") == transfer_id), None)
    if op == "transfer":
        if found is not None:
            return out
        if out.get("state") not in ("answered",):
            raise ContactRefused([FieldError("state", "only a call in progress is transferred")])
        if not _owned_by(out, actor):
            raise ContactRefused(
                [FieldError("owner", f"{out.get('owner_name') or 'another agent'} has this call")]
            )
        if any(t.get("state") == "offered" for t in transfers):
            raise ContactRefused(
                [FieldError("to", "a transfer of this call is already waiting for an answer")]
            )
        errors: list[FieldError] = []
        to_user = text_field(fields, "to_user", errors, max_len=MAX_ID)
        to_team = text_field(fields, "to_team", errors, max_len=100)
        to_name = text_field(fields, "to_name", errors, max_len=MAX_CALLER)
        if bool(to_user) == bool(to_team):
            errors.append(FieldError("to", "choose one colleague or one team"))
        if to_user and to_user == actor.username:
            errors.append(FieldError("to", "choose somebody else: the call is already yours"))
        mode = str(fields.get("mode") or "warm")
        if mode not in TRANSFER_MODES:
            errors.append(FieldError("mode", "choose warm (announced) or blind"))
        announcement = text_field(
            fields, "announcement", errors, max_len=MAX_ANNOUNCEMENT, multiline=True
        )
        if mode == "warm" and not announcement:
            errors.append(
                FieldError(
                    "announcement",
                    "tell the colleague who is calling, what it is about and why them",
                )
            )
        if errors:
            raise ValidationFailed(errors)
        at = _iso(_step_time(fields, "at", now))
        transfer = {
            "id": transfer_id,
            "to_user": to_user,
            "to_team": to_team,
            "to_name": to_name or to_user or to_team,
            "mode": mode,
            "announcement": announcement,
            "by": actor.label,
            "by_user": actor.username,
            "at": at,
            "state": "offered" if mode == "warm" else "blind",
            "answered_at": None,
            "answered_by": "",
            "answered_by_user": "",
        }
        transfers.append(transfer)
        out["transfers"] = transfers
        if mode == "blind":
            # Put straight through: the colleague owns the call from now on (the server
            # fills in who that is), and nothing stays on hold with this agent.
            transfer.update(
                from_owner_id=out.get("owner_id"), from_owner_name=out.get("owner_name")
            )
            out.update(owner_id=fields.get("to_user_id") or None, owner_name=transfer["to_name"])
            _end_open_holds(out, at, "transferred")
        return out
    if found is None:
        raise ValidationFailed([FieldError("id", "no transfer with this id on the contact")])
    if op == "withdraw_transfer":
        # The agent takes the caller back before the colleague answered.
        if found.get("by_user") != actor.username and not actor.supervisor:
            raise ContactRefused([FieldError("owner", "only who offered it can withdraw it")])
        if found.get("state") == "offered":
            found.update(state="withdrawn", answered_at=_iso(_step_time(fields, "at", now)))
            out["transfers"] = transfers
            return out
        if found.get("state") == "withdrawn":
            return out
        raise ContactRefused(
            [FieldError("state", f"already {found.get('state')} by {found.get('answered_by')}")]
        )
    # transfer_answer: the colleague (or a member of the team) accepts or declines
    if found.get("state") not in ("offered", "blind"):
        if found.get("answered_by_user") == actor.username:
            return out  # the same answer again
        raise ContactRefused(
            [FieldError("state", f"already {found.get('state')} by {found.get('answered_by')}")]
        )
    addressed = (found.get("to_user") and found["to_user"] == actor.username) or (
        found.get("to_team") and found["to_team"] == actor.department
    )
    if not addressed or actor.username == found.get("by_user"):
        raise ContactRefused([FieldError("to", f"this transfer is for {found.get('to_name')}")])
    if out.get("state") != "answered":
        raise ContactRefused([FieldError("state", "the call has ended meanwhile")])
    accepted = fields.get("accepted")
    if not isinstance(accepted, bool):
        raise ValidationFailed([FieldError("accepted", "expected true or false")])
    found.update(
        state="accepted" if accepted else "declined",
        answered_at=_iso(_step_time(fields, "at", now)),
        answered_by=actor.label,
        answered_by_user=actor.username,
    )
    out["transfers"] = transfers
    if not accepted and found.get("mode") == "blind":
        # Nobody on the team takes it: it is the first agent's again.
        out.update(owner_id=found.get("from_owner_id"), owner_name=found.get("from_owner_name"))
    if accepted:
        # Handed over by name: the colleague who took it owns it from now on, and the
        # caller's hold with the first agent is over.
        out.update(owner_id=actor.user_id, owner_name=actor.label)
        _end_open_holds(out, found["answered_at"], "transferred")
    return out


def _end_open_holds(out: dict[str, Any], at: str, how: str) -> None:
    holds = [dict(h) for h in out.get("holds") or []]
    for hold in holds:
        if hold.get("end") is None:
            hold.update(end=max(at, str(hold["start"])), how=how)
    out["holds"] = holds


def open_promises(
    records: Iterable[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """Promises not yet kept, soonest due first, each with the contact it was made on."""
    found = [
        {**promise, "contact_id": record.get("id")}
        for record in records
        for promise in record.get("promises") or []
        if not promise.get("done_at")
    ]
    return sorted(found, key=lambda p: (p["due_at"], p["id"]))


def history_matches(
    record: Mapping[str, Any],
    *,
    text: str = "",
    agent: str = "",
    category: str = "",
    day: dt.date | None = None,
    tz: dt.tzinfo = dt.UTC,
) -> bool:
    """Whether a contact fits the sheet's history search (all given criteria must hold)."""
    wrap = record.get("wrap_up") or {}
    if category and wrap.get("category") != category:
        return False
    if agent:
        names = {
            str(record.get("owner_name") or ""),
            str(record.get("answered_by") or ""),
            str(wrap.get("by") or ""),
            *(str(n.get("by") or "") for n in record.get("notes") or []),
        }
        if not any(agent.casefold() in name.casefold() for name in names if name):
            return False
    if day is not None:
        offered = parse_time(record.get("offered_at"), "offered_at").astimezone(tz)
        if offered.date() != day:
            return False
    if text:
        haystack = " ".join(
            [
                str(record.get("caller_name") or ""),
                str(record.get("caller_number") or ""),
                str(wrap.get("category") or ""),
                str(wrap.get("handed_to") or ""),
                *(str(n.get("text") or "") for n in record.get("notes") or []),
                *(str(p.get("text") or "") for p in record.get("promises") or []),
            ]
        ).casefold()
        if not all(word in haystack for word in text.casefold().split()):
            return False
    return True
