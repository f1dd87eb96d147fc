"""Incoming contacts: who waits, in which order, and how urgent the answer has become.

Rules from the help desk's practice: tier A customers (core operations) are served at once,
before anyone of tier B; within a tier, first come first served. A phone is answered by the
second ring, the third at the latest ("after three rings patience drops and distrust
begins"). Every rule here takes the time as an argument so it can be tested without waiting.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from agentdesk.domain.errors import FieldError

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
