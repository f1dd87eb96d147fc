"""Putting callers on hold, checking back on them, and serving them in order.

The help desk's rules (DOMAIN §4): say why before putting a caller on hold, and say "please
hold", never "hold on" or "wait"; check back every 30–40 seconds and offer the choice to keep
holding or be called back; on return say "thank you for holding", never "sorry for the
delay"; with several callers on hold, the first put on hold is the first served.

Everything here runs on an injected monotonic clock, so the timing rules are tested without
waiting. The desk renders a :class:`HoldBoard` and forwards the agent's actions to it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from agentdesk.domain.errors import FieldError, ValidationFailed

Clock = Callable[[], float]

MIN_INTERVAL_S: Final = 30.0
MAX_INTERVAL_S: Final = 40.0
DEFAULT_INTERVAL_S: Final = 30.0

#: Why the caller is put on hold, and the words the agent says. None of them says "hold on"
#: or "wait"; each tells the caller why.
HOLD_REASONS: Final[dict[str, str]] = {
    "find-out": "Please hold — I need to find out the answer for you.",
    "check": "I'll just check that for you. Please hold.",
    "colleague": "I'll ask a colleague who knows this best. Please hold.",
    "system": "I need to look this up in our system. Please hold.",
    "second-call": "Hello, help desk, please hold.",
    "another-call": "I need to take another call. Please hold, I will be right back with you.",
}
CHECK_BACK_LINE: Final = (
    "Thank you for holding — would you like to keep holding, or shall I call you back?"
)
RESUME_LINE: Final = "Thank you for holding."
#: Said to a caller put on hold to greet a second caller, and to the second caller.
SECOND_CALL_LINE: Final = HOLD_REASONS["second-call"]


def check_interval(value: object) -> float:
    """The site's check-back interval in seconds; refuses anything outside 30–40 s."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = math.nan
    if not math.isfinite(seconds) or not MIN_INTERVAL_S <= seconds <= MAX_INTERVAL_S:
        raise ValidationFailed(
            [
                FieldError(
                    "check_back_interval_s",
                    f"must be between {MIN_INTERVAL_S:.0f} and {MAX_INTERVAL_S:.0f} seconds "
                    f"(callers are checked on every 30–40 s), got {value!r}",
                )
            ]
        )
    return seconds


class NotOnHold(LookupError):
    """The call is not on hold (it was resumed, transferred or hung up meanwhile)."""


@dataclass(frozen=True)
class OutOfOrder(Exception):
    """Resuming this call would pass over callers who were put on hold before it."""

    contact_id: str
    waiting_longer: tuple[str, ...]

    def __str__(self) -> str:
        count = len(self.waiting_longer)
        return (
            f"{count} caller{'s' if count != 1 else ''} put on hold earlier should be served first"
        )


@dataclass(frozen=True)
class CheckBack:
    """The agent checked back on a held caller ``late_s`` seconds after the prompt."""

    at: float
    late_s: float


@dataclass
class HeldCall:
    """One caller on hold."""

    contact_id: str
    caller: str
    reason: str
    held_at: float
    last_check_at: float
    check_backs: list[CheckBack] = field(default_factory=list)
    order: int = 0  # breaks ties between calls held at the same clock reading

    def level(self, now: float, interval: float) -> int:
        """0 while within the interval, 1 when a check-back is due, 2 and more when the
        agent has let whole intervals pass without checking back (escalated)."""
        # A hair of tolerance: at the very time next_alert_at() names, floating point must
        # not leave the level one short (1030.1 - 1000.1 is 29.999999999999886).
        return max(0, math.floor((now - self.last_check_at) / interval + 1e-9))

    def next_alert_at(self, interval: float, now: float) -> float:
        """When the level next goes up (the next prompt or escalation)."""
        return self.last_check_at + (self.level(now, interval) + 1) * interval


@dataclass(frozen=True)
class Alert:
    """What the hold board must show for one held call right now."""

    contact_id: str
    level: int  # 1: check back now; 2+: escalated
    prompt: str
    overdue_s: float  # since the first prompt of this round

    @property
    def escalated(self) -> bool:
        return self.level >= 2


@dataclass(frozen=True)
class HoldSegment:
    """A finished stretch of hold, for the contact record."""

    contact_id: str
    reason: str
    held_at: float
    ended_at: float
    check_backs: tuple[CheckBack, ...]
    how: str  # "resumed", "transferred" or "hung up"

    @property
    def duration_s(self) -> float:
        return max(0.0, self.ended_at - self.held_at)


class HoldBoard:
    """Every call the agent has on hold, with the check-back rule applied to each."""

    def __init__(self, clock: Clock, interval_s: float = DEFAULT_INTERVAL_S) -> None:
        self.clock = clock
        self.interval = check_interval(interval_s)
        self._held: dict[str, HeldCall] = {}
        self._order = 0

    def set_interval(self, seconds: object) -> None:
        self.interval = check_interval(seconds)

    # --- what is on hold ------------------------------------------------------------------

    def held(self) -> list[HeldCall]:
        """Held calls, first put on hold first (the order they are to be served)."""
        return sorted(self._held.values(), key=lambda c: (c.held_at, c.order))

    def is_held(self, contact_id: str) -> bool:
        return contact_id in self._held

    def next_to_serve(self) -> HeldCall | None:
        held = self.held()
        return held[0] if held else None

    # --- actions --------------------------------------------------------------------------

    def hold(self, contact_id: str, caller: str, reason: str) -> HeldCall:
        """Put a caller on hold for a reason from :data:`HOLD_REASONS`."""
        if reason not in HOLD_REASONS:
            raise ValidationFailed(
                [FieldError("reason", f"choose one of: {', '.join(HOLD_REASONS)}")]
            )
        if contact_id in self._held:
            return self._held[contact_id]
        now = self.clock()
        self._order += 1
        call = HeldCall(
            contact_id, caller, reason, held_at=now, last_check_at=now, order=self._order
        )
        self._held[contact_id] = call
        return call

    def confirm_check_back(self, contact_id: str) -> CheckBack:
        """The agent spoke to the held caller, who keeps holding: the timer starts again."""
        call = self._get(contact_id)
        now = self.clock()
        due = call.last_check_at + self.interval
        check = CheckBack(at=now, late_s=max(0.0, now - due))
        call.check_backs.append(check)
        call.last_check_at = now
        return check

    def resume(self, contact_id: str, *, out_of_order_ok: bool = False) -> HoldSegment:
        """Take the caller off hold; refuses to pass over earlier callers unless confirmed."""
        call = self._get(contact_id)
        line = [c.contact_id for c in self.held()]
        earlier = tuple(line[: line.index(contact_id)])
        if earlier and not out_of_order_ok:
            raise OutOfOrder(contact_id, earlier)
        return self._end(call, "resumed")

    def transferred(self, contact_id: str) -> HoldSegment | None:
        """The held caller was transferred: the alerts for them stop."""
        call = self._held.get(contact_id)
        return self._end(call, "transferred") if call is not None else None

    def hung_up(self, contact_id: str) -> HoldSegment | None:
        """The held caller hung up: the alerts for them stop."""
        call = self._held.get(contact_id)
        return self._end(call, "hung up") if call is not None else None

    # --- alerts ---------------------------------------------------------------------------

    def alerts(self) -> list[Alert]:
        """Calls that need a check-back now, in serving order."""
        now = self.clock()
        found = []
        for call in self.held():
            level = call.level(now, self.interval)
            if level >= 1:
                first_due = call.last_check_at + self.interval
                found.append(Alert(call.contact_id, level, CHECK_BACK_LINE, now - first_due))
        return found

    def next_alert_at(self) -> float | None:
        """The monotonic time of the next prompt or escalation, to schedule a timer."""
        now = self.clock()
        times = [c.next_alert_at(self.interval, now) for c in self._held.values()]
        return min(times) if times else None

    # --- internals ------------------------------------------------------------------------

    def _get(self, contact_id: str) -> HeldCall:
        call = self._held.get(contact_id)
        if call is None:
            raise NotOnHold(contact_id)
        return call

    def _end(self, call: HeldCall, how: str) -> HoldSegment:
        del self._held[call.contact_id]
        return HoldSegment(
            contact_id=call.contact_id,
            reason=call.reason,
            held_at=call.held_at,
            ended_at=self.clock(),
            check_backs=tuple(call.check_backs),
            how=how,
        )
