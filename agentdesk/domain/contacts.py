"""Incoming contacts: who waits, in which order, and how urgent the answer has become.

Rules from the help desk's practice: tier A customers (core operations) are served at once,
before anyone of tier B; within a tier, first come first served. A phone is answered by the
second ring, the third at the latest ("after three rings patience drops and distrust
begins"). Every rule here takes the time as an argument so it can be tested without waiting.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

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
