"""Hold and check-back rules, on a fake monotonic clock (no waiting)."""

from __future__ import annotations

import math
import re

import pytest

from agentdesk.domain.errors import ValidationFailed
from agentdesk.domain.hold import (
    CHECK_BACK_LINE,
    HOLD_REASONS,
    RESUME_LINE,
    Alert,
    HeldCall,
    HoldBoard,
    HoldSegment,
    NotOnHold,
    OutOfOrder,
    check_interval,
)

START = 1000.0  # a whole number, so start + k * interval is exact in floating point


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _board(interval: float = 35.0, now: float = START) -> tuple[HoldBoard, FakeClock]:
    clock = FakeClock(now)
    return HoldBoard(clock, interval), clock


# --- the prompt and its escalation ----------------------------------------------------------


@pytest.mark.parametrize("interval", [30.0, 35.0, 40.0])
def test_the_check_back_prompt_comes_at_exactly_the_interval(interval: float) -> None:
    # Given a caller put on hold at START with the site's interval
    board, clock = _board(interval)
    board.hold("c1", "Ada", "check")
    # When a millisecond short of the interval has passed
    clock.now = START + interval - 0.001
    # Then there is no prompt yet
    assert board.alerts() == []
    # When exactly the interval has passed
    clock.now = START + interval
    # Then the agent is prompted to check back, with the check-back words
    assert board.alerts() == [Alert("c1", 1, CHECK_BACK_LINE, 0.0)]
    assert not board.alerts()[0].escalated


def test_no_prompt_right_after_the_caller_is_put_on_hold() -> None:
    board, _clock = _board(30.0)
    board.hold("c1", "Ada", "system")
    assert board.alerts() == []


def test_a_missed_check_back_escalates_every_interval_and_never_stops() -> None:
    # Given a caller on hold with a 30 s interval and no check-back
    board, clock = _board(30.0)
    board.hold("c1", "Ada", "colleague")
    seen = []
    # When 1, 2, 3 and 10 intervals pass (and one just short of the 3rd)
    for elapsed in (30.0, 60.0, 89.999, 90.0, 300.0):
        clock.now = START + elapsed
        (alert,) = board.alerts()
        seen.append((alert.level, alert.escalated, alert.overdue_s))
    # Then the level rises by one per interval, and overdue counts from the first prompt
    assert seen[0] == (1, False, 0.0)
    assert seen[1] == (2, True, 30.0)
    assert seen[2][:2] == (2, True) and seen[2][2] == pytest.approx(59.999)
    assert seen[3] == (3, True, 60.0)
    assert seen[4] == (10, True, 270.0)


def test_the_level_of_a_held_call_counts_whole_intervals_since_the_last_check() -> None:
    call = HeldCall("c1", "Ada", "check", held_at=0.0, last_check_at=10.0)
    assert call.level(10.0, 30.0) == 0
    assert call.level(39.999, 30.0) == 0
    assert call.level(40.0, 30.0) == 1
    assert call.level(70.0, 30.0) == 2
    assert call.level(5.0, 30.0) == 0  # a clock reading before the last check is not negative


# --- scheduling the timer ----------------------------------------------------------------------


def test_next_alert_at_is_none_when_nothing_is_on_hold() -> None:
    board, _clock = _board()
    assert board.next_alert_at() is None


def test_next_alert_at_is_exactly_the_next_level_boundary() -> None:
    # Given a caller put on hold at START with a 35 s interval
    board, clock = _board(35.0)
    board.hold("c1", "Ada", "check")
    # Then the timer is for the first prompt, however close to it we are
    assert board.next_alert_at() == START + 35.0
    clock.now = START + 34.999
    assert board.next_alert_at() == START + 35.0
    # When the prompt is due (and not answered), the next one is the escalation after it
    clock.now = START + 35.0
    assert board.next_alert_at() == START + 70.0
    clock.now = START + 100.0
    assert board.next_alert_at() == START + 105.0


def test_next_alert_at_is_the_earliest_of_several_held_calls() -> None:
    # Given one caller held at START and another 10 s later
    board, clock = _board(30.0)
    board.hold("later-id-a", "Ada", "check")
    clock.now = START + 10.0
    board.hold("b", "Bob", "system")
    # Then the timer is for the first caller's prompt
    assert board.next_alert_at() == START + 30.0
    # When the first caller's prompt is due, the next boundary is the second caller's
    clock.now = START + 30.0
    assert board.next_alert_at() == START + 40.0
    # When the first caller is checked on at START + 35, the second caller's prompt is next
    clock.now = START + 35.0
    board.confirm_check_back("later-id-a")
    assert board.next_alert_at() == START + 40.0


def test_the_clock_reaching_next_alert_at_always_raises_the_alert_level() -> None:
    # Given a caller put on hold at 1000.1 s (not a whole number) with a 30 s interval
    board, clock = _board(30.0, now=1000.1)
    board.hold("c1", "Ada", "check")
    due = board.next_alert_at()
    assert due is not None
    assert due == pytest.approx(1030.1)
    # When the timer fires exactly at the time it was given
    clock.now = due
    # Then the prompt is shown, and the next timer is later than now
    assert [a.level for a in board.alerts()] == [1]
    next_due = board.next_alert_at()
    assert next_due is not None and next_due > clock.now


# --- checking back ----------------------------------------------------------------------------


def test_a_check_back_restarts_the_timer_from_that_moment() -> None:
    # Given a caller on hold since START, prompted at START + 35
    board, clock = _board(35.0)
    board.hold("c1", "Ada", "find-out")
    clock.now = START + 40.0
    assert [a.level for a in board.alerts()] == [1]
    # When the agent checks back 5 s after the prompt
    check = board.confirm_check_back("c1")
    # Then the prompt is gone and the lateness is recorded
    assert check.at == START + 40.0
    assert check.late_s == 5.0
    assert board.alerts() == []
    # And the next prompt is one interval after the check-back, not after the hold began
    assert board.next_alert_at() == START + 75.0
    clock.now = START + 70.0  # two intervals after the hold began
    assert board.alerts() == []
    clock.now = START + 75.0 - 0.001
    assert board.alerts() == []
    clock.now = START + 75.0
    assert board.alerts() == [Alert("c1", 1, CHECK_BACK_LINE, 0.0)]


def test_a_check_back_on_time_or_early_is_not_late() -> None:
    board, clock = _board(30.0)
    board.hold("c1", "Ada", "check")
    # When the agent checks back exactly at the prompt
    clock.now = START + 30.0
    assert board.confirm_check_back("c1").late_s == 0.0
    # And again before the next prompt
    clock.now = START + 45.0
    assert board.confirm_check_back("c1").late_s == 0.0


def test_a_late_check_back_after_escalation_records_the_full_lateness() -> None:
    board, clock = _board(30.0)
    board.hold("c1", "Ada", "check")
    clock.now = START + 95.0  # level 3
    assert board.confirm_check_back("c1").late_s == 65.0
    assert board.next_alert_at() == START + 125.0


# --- serving order ----------------------------------------------------------------------------


def test_held_calls_are_served_in_the_order_they_were_put_on_hold() -> None:
    # Given callers put on hold in an order opposite to their contact ids
    board, clock = _board(30.0)
    for offset, cid in [(0.0, "z"), (1.0, "m"), (2.0, "a")]:
        clock.now = START + offset
        board.hold(cid, cid.upper(), "check")
    # When the first one is checked back on (its timer restarts, its place does not move)
    clock.now = START + 31.0
    board.confirm_check_back("z")
    # Then the order is the hold order
    assert [c.contact_id for c in board.held()] == ["z", "m", "a"]
    next_call = board.next_to_serve()
    assert next_call is not None and next_call.contact_id == "z"
    # And the alerts come in the same serving order
    clock.now = START + 100.0
    assert [a.contact_id for a in board.alerts()] == ["z", "m", "a"]


def test_holding_the_same_call_again_does_not_move_it_back_in_line() -> None:
    # Given two callers on hold, "first" before "second"
    board, clock = _board(30.0)
    first = board.hold("first", "Ada", "check")
    clock.now = START + 5.0
    board.hold("second", "Bob", "check")
    # When "first" is put on hold again later
    clock.now = START + 20.0
    again = board.hold("first", "Ada", "system")
    # Then it is the same held call, with its original time, still first in line
    assert again is first
    assert again.held_at == START
    assert again.reason == "check"
    assert [c.contact_id for c in board.held()] == ["first", "second"]
    assert board.next_alert_at() == START + 30.0


def test_calls_held_at_the_same_clock_reading_keep_the_order_they_were_held() -> None:
    # Given two callers put on hold at the same clock reading (a coarse monotonic clock),
    # "z" first
    board, _clock = _board(30.0)
    board.hold("z", "Zoe", "check")
    board.hold("a", "Ada", "second-call")
    # Then "z", the first put on hold, is the first served
    assert [c.contact_id for c in board.held()] == ["z", "a"]
    next_call = board.next_to_serve()
    assert next_call is not None and next_call.contact_id == "z"


def test_next_to_serve_is_none_when_nothing_is_on_hold() -> None:
    board, _clock = _board()
    assert board.next_to_serve() is None
    assert board.held() == []


# --- resuming ---------------------------------------------------------------------------------


def _three_on_hold() -> tuple[HoldBoard, FakeClock]:
    board, clock = _board(30.0)
    for offset, cid in [(0.0, "c3"), (5.0, "c2"), (10.0, "c1")]:
        clock.now = START + offset
        board.hold(cid, cid, "check")
    return board, clock


def test_resuming_a_caller_out_of_order_names_those_held_earlier() -> None:
    # Given three callers on hold, c3 then c2 then c1
    board, clock = _three_on_hold()
    clock.now = START + 20.0
    # When the agent resumes the last one held
    with pytest.raises(OutOfOrder) as caught:
        board.resume("c1")
    # Then it is refused, naming the two who waited longer, in serving order
    assert caught.value.contact_id == "c1"
    assert caught.value.waiting_longer == ("c3", "c2")
    assert str(caught.value) == "2 callers put on hold earlier should be served first"
    # And nothing changed
    assert [c.contact_id for c in board.held()] == ["c3", "c2", "c1"]


def test_out_of_order_with_one_caller_held_earlier_says_one_caller() -> None:
    board, _clock = _three_on_hold()
    with pytest.raises(OutOfOrder) as caught:
        board.resume("c2")
    assert caught.value.waiting_longer == ("c3",)
    assert str(caught.value) == "1 caller put on hold earlier should be served first"


def test_resuming_out_of_order_when_confirmed() -> None:
    board, clock = _three_on_hold()
    clock.now = START + 20.0
    segment = board.resume("c1", out_of_order_ok=True)
    assert segment.how == "resumed"
    assert [c.contact_id for c in board.held()] == ["c3", "c2"]


def test_resuming_the_first_in_line_needs_no_confirmation() -> None:
    board, clock = _three_on_hold()
    clock.now = START + 20.0
    segment = board.resume("c3")
    assert segment.contact_id == "c3"
    assert not board.is_held("c3")
    # And then the next one is first in line
    assert board.resume("c2").contact_id == "c2"


# --- ending the hold ---------------------------------------------------------------------------


def test_resuming_stops_the_alerts_and_records_the_hold() -> None:
    # Given a caller on hold since START, checked on once 5 s late, and now overdue again
    board, clock = _board(30.0)
    board.hold("c1", "Ada", "colleague")
    clock.now = START + 35.0
    board.confirm_check_back("c1")
    clock.now = START + 70.0
    assert [a.contact_id for a in board.alerts()] == ["c1"]
    # When the agent resumes the call
    segment = board.resume("c1")
    # Then the alert is gone at once and no timer is needed
    assert board.alerts() == []
    assert board.next_alert_at() is None
    assert not board.is_held("c1")
    # And the segment records the hold
    assert isinstance(segment, HoldSegment)
    assert segment.contact_id == "c1"
    assert segment.reason == "colleague"
    assert segment.held_at == START
    assert segment.ended_at == START + 70.0
    assert segment.duration_s == 70.0
    assert [(c.at, c.late_s) for c in segment.check_backs] == [(START + 35.0, 5.0)]
    assert segment.how == "resumed"


@pytest.mark.parametrize(("end", "how"), [("transferred", "transferred"), ("hung_up", "hung up")])
def test_a_transfer_or_hang_up_stops_that_callers_alerts(end: str, how: str) -> None:
    # Given two overdue callers on hold
    board, clock = _board(30.0)
    board.hold("gone", "Ada", "system")
    clock.now = START + 10.0
    board.hold("stays", "Bob", "check")
    clock.now = START + 45.0
    assert [a.contact_id for a in board.alerts()] == ["gone", "stays"]
    # When the first is transferred or hangs up
    segment = getattr(board, end)("gone")
    # Then only the other caller's alerts remain, and the timer ignores the ended call
    assert [a.contact_id for a in board.alerts()] == ["stays"]
    assert board.next_alert_at() == START + 70.0
    assert [c.contact_id for c in board.held()] == ["stays"]
    # And the segment says how the hold ended
    assert segment is not None
    assert segment.how == how
    assert segment.reason == "system"
    assert (segment.held_at, segment.ended_at, segment.duration_s) == (START, START + 45.0, 45.0)
    assert segment.check_backs == ()


@pytest.mark.parametrize("end", ["transferred", "hung_up"])
def test_transfer_or_hang_up_of_a_call_not_on_hold_returns_none(end: str) -> None:
    board, _clock = _board()
    board.hold("c1", "Ada", "check")
    assert getattr(board, end)("unknown") is None
    assert board.is_held("c1")


def test_a_call_can_end_only_once() -> None:
    board, _clock = _board()
    board.hold("c1", "Ada", "check")
    assert board.hung_up("c1") is not None
    assert board.transferred("c1") is None
    with pytest.raises(NotOnHold):
        board.resume("c1")


@pytest.mark.parametrize("action", ["confirm_check_back", "resume"])
def test_acting_on_a_call_not_on_hold_is_refused(action: str) -> None:
    board, _clock = _board()
    board.hold("c1", "Ada", "check")
    with pytest.raises(NotOnHold):
        getattr(board, action)("unknown")


def test_a_resumed_call_cannot_be_checked_back_on() -> None:
    board, _clock = _board()
    board.hold("c1", "Ada", "check")
    board.resume("c1")
    with pytest.raises(NotOnHold):
        board.confirm_check_back("c1")


# --- the interval -----------------------------------------------------------------------------

BAD_INTERVALS = [29.9, 40.1, 0, -5, "abc", None, math.nan, math.inf, -math.inf]


def _interval_message(caught: pytest.ExceptionInfo[ValidationFailed]) -> str:
    by_field = caught.value.by_field()
    assert list(by_field) == ["check_back_interval_s"]
    return by_field["check_back_interval_s"]


@pytest.mark.parametrize("value", BAD_INTERVALS)
def test_an_interval_outside_30_to_40_seconds_is_refused(value: object) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_interval(value)
    assert "between 30 and 40 seconds" in _interval_message(caught)


@pytest.mark.parametrize("value", BAD_INTERVALS)
def test_a_board_cannot_be_made_with_a_bad_interval(value: object) -> None:
    with pytest.raises(ValidationFailed) as caught:
        HoldBoard(FakeClock(), value)  # type: ignore[arg-type]
    assert "between 30 and 40 seconds" in _interval_message(caught)


@pytest.mark.parametrize(("value", "seconds"), [(30, 30.0), (40, 40.0), ("35", 35.0), (30.5, 30.5)])
def test_an_interval_from_30_to_40_seconds_is_accepted(value: object, seconds: float) -> None:
    assert check_interval(value) == seconds
    board = HoldBoard(FakeClock(), value)  # type: ignore[arg-type]
    assert board.interval == seconds


def test_the_default_interval_is_within_the_rule() -> None:
    board = HoldBoard(FakeClock())
    assert 30.0 <= board.interval <= 40.0


@pytest.mark.parametrize("value", BAD_INTERVALS)
def test_set_interval_refuses_a_bad_interval_and_keeps_the_old_one(value: object) -> None:
    # Given a board with a 35 s interval and a caller on hold
    board, clock = _board(35.0)
    board.hold("c1", "Ada", "check")
    # When a bad interval is set
    with pytest.raises(ValidationFailed) as caught:
        board.set_interval(value)
    assert "between 30 and 40 seconds" in _interval_message(caught)
    # Then the old interval still applies
    assert board.interval == 35.0
    clock.now = START + 35.0
    assert [a.level for a in board.alerts()] == [1]


def test_set_interval_applies_to_calls_already_on_hold() -> None:
    board, clock = _board(40.0)
    board.hold("c1", "Ada", "check")
    board.set_interval("30")
    assert board.interval == 30.0
    assert board.next_alert_at() == START + 30.0
    clock.now = START + 30.0
    assert [a.level for a in board.alerts()] == [1]


# --- the words --------------------------------------------------------------------------------

ALL_LINES = [*HOLD_REASONS.values(), CHECK_BACK_LINE, RESUME_LINE]


def test_an_unknown_hold_reason_is_refused() -> None:
    board, _clock = _board()
    with pytest.raises(ValidationFailed) as caught:
        board.hold("c1", "Ada", "coffee")
    assert list(caught.value.by_field()) == ["reason"]
    assert "find-out" in caught.value.by_field()["reason"]
    assert not board.is_held("c1")
    assert board.held() == []


@pytest.mark.parametrize("line", ALL_LINES)
def test_no_suggested_words_say_hold_on_wait_or_sorry_for_the_delay(line: str) -> None:
    assert "hold on" not in line.lower()
    assert re.search(r"\bwait\b", line, re.IGNORECASE) is None
    assert "sorry for the delay" not in line.lower()


@pytest.mark.parametrize("reason", [r for r in HOLD_REASONS if r != "second-call"])
def test_every_hold_reason_says_please_hold(reason: str) -> None:
    assert "please hold" in HOLD_REASONS[reason].lower()


def test_the_hold_reasons_are_the_expected_choices() -> None:
    assert set(HOLD_REASONS) == {
        "find-out",
        "check",
        "colleague",
        "system",
        "second-call",
        "another-call",
    }


def test_the_resume_line_thanks_the_caller_for_holding() -> None:
    assert "Thank you for holding" in RESUME_LINE


def test_the_check_back_line_offers_to_keep_holding_or_be_called_back() -> None:
    assert "keep holding" in CHECK_BACK_LINE
    assert "call you back" in CHECK_BACK_LINE
