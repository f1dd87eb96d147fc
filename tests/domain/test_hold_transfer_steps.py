"""Holding and transferring a call: the hold, check-back, resume, transfer and
transfer-answer steps of a contact record.

The same rules run on the desk and on the server, so every step takes the time as an
argument; these tests use fixed times and never the wall clock.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from typing import Any

import pytest

from agentdesk.domain.contacts import (
    HOLD_ENDS,
    MAX_ANNOUNCEMENT,
    Actor,
    ContactRefused,
    apply_op,
)
from agentdesk.domain.errors import ValidationFailed
from agentdesk.domain.hold import HOLD_REASONS

T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)
MINUTE = dt.timedelta(minutes=1)

#: Answered at T0+8s by the helpers below; holds and transfers happen after that.
ANSWERED_AT = T0 + 8 * SECOND

KARI = Actor(user_id="u-kari", username="kari", full_name="Kari Nordmann", department="first-line")
OLA = Actor(user_id="u-ola", username="ola", full_name="Ola Hansen", department="first-line")
PER = Actor(
    user_id="u-per", username="per", full_name="Per Olsen", supervisor=True, department="desk"
)
SIV = Actor(user_id="u-siv", username="siv", full_name="Siv Berg", department="second-line")
TOR = Actor(user_id="u-tor", username="tor", full_name="Tor Lie", department="second-line")

WARM_TO_OLA = {
    "id": "t1",
    "to_user": "ola",
    "mode": "warm",
    "announcement": "Kari here: Nils at Acme cannot print payslips; you set up their printer.",
}
BLIND_TO_SECOND_LINE = {"id": "t1", "to_team": "second-line", "mode": "blind"}


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


def _ringing(offered_at: dt.datetime = T0) -> dict[str, Any]:
    """A phone call as the phone system reports it: ringing, nobody owns it yet."""
    return {
        "id": "c-1",
        "channel": "phone",
        "direction": "in",
        "call_id": "call-77",
        "caller_number": "+47 22 33 44 55",
        "called_number": "+47 815 00 000",
        "queue": "helpdesk",
        "customer_id": None,
        "candidates": [],
        "caller_name": "Nils Acme",
        "tier": "B",
        "state": "ringing",
        "offered_at": _iso(offered_at),
        "answered_at": None,
        "ended_at": None,
        "waited_s": None,
        "answered_by": "",
        "hangup_cause": "",
        "owner_id": None,
        "owner_name": "",
        "notes": [],
        "promises": [],
        "wrap_up": None,
    }


def _answered(actor: Actor = KARI) -> dict[str, Any]:
    """A call ringing since T0 and answered by ``actor`` at T0+8s."""
    return apply_op(_ringing(), "answer", {}, actor, now=ANSWERED_AT)


def _ended(actor: Actor = KARI) -> dict[str, Any]:
    """A call answered by ``actor`` and ended a minute after T0."""
    return apply_op(_answered(actor), "end", {}, actor, now=T0 + MINUTE)


def _on_hold(
    actor: Actor = KARI, hold_id: str = "h1", at: dt.datetime = T0 + 20 * SECOND
) -> dict[str, Any]:
    """Kari's answered call, put on hold at ``at`` to check something."""
    return apply_op(
        _answered(KARI), "hold", {"id": hold_id, "reason": "check", "at": _iso(at)}, actor, now=at
    )


def _transferred(fields: dict[str, Any], actor: Actor = KARI) -> dict[str, Any]:
    """Kari's answered call with one transfer made by ``actor`` at T0+30s."""
    return apply_op(_answered(KARI), "transfer", fields, actor, now=T0 + 30 * SECOND)


def _fields_of(failed: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [e.field for e in failed.value.errors]


# --- hold -----------------------------------------------------------------------------------


def test_putting_an_answered_call_on_hold_appends_the_hold_with_its_start_reason_and_agent() -> (
    None
):
    # Given a call Kari answered
    record = _answered(KARI)
    # When she puts it on hold twenty seconds after T0 to check something
    after = apply_op(record, "hold", {"id": "h1", "reason": "check"}, KARI, now=T0 + 20 * SECOND)
    # Then one hold is on the record: started then, for that reason, by her, still open
    assert len(after["holds"]) == 1
    hold = after["holds"][0]
    assert hold["id"] == "h1"
    assert hold["start"] == _iso(T0 + 20 * SECOND)
    assert hold["reason"] == "check"
    assert hold["by"] == "Kari Nordmann"
    assert hold["end"] is None
    assert hold["how"] is None
    assert hold["check_backs"] == []
    # And the call itself is still answered and still hers
    assert after["state"] == "answered"
    assert after["owner_id"] == "u-kari"


def test_a_hold_time_given_by_the_desk_wins_over_when_it_was_synced() -> None:
    # Given a hold the desk started at T0+20s (written in local time) but synced later
    after = apply_op(
        _answered(KARI),
        "hold",
        {"id": "h1", "reason": "system", "at": "2026-11-23T10:00:20+01:00"},
        KARI,
        now=T0 + 5 * MINUTE,
    )
    # Then the start is the desk's time, in UTC
    assert after["holds"][0]["start"] == _iso(T0 + 20 * SECOND)


def test_a_second_hold_is_appended_after_the_first() -> None:
    # Given a call with one hold that was resumed
    record = apply_op(_on_hold(), "resume", {"id": "h1"}, KARI, now=T0 + 40 * SECOND)
    # When Kari holds it again to ask a colleague
    after = apply_op(record, "hold", {"id": "h2", "reason": "colleague"}, KARI, now=T0 + MINUTE)
    # Then both holds are kept, in order
    assert [h["id"] for h in after["holds"]] == ["h1", "h2"]
    assert after["holds"][0] == record["holds"][0]


@pytest.mark.parametrize("reason", list(HOLD_REASONS))
def test_every_known_hold_reason_is_accepted(reason: str) -> None:
    after = apply_op(_answered(), "hold", {"id": "h1", "reason": reason}, KARI, now=T0 + MINUTE)
    assert after["holds"][0]["reason"] == reason


@pytest.mark.parametrize("reason", [None, "", "wait", "hold on", "CHECK", ["check"], 3])
def test_a_hold_needs_a_known_reason(reason: Any) -> None:
    # Given a hold without a reason, or one the desk does not know
    # When it is applied
    with pytest.raises(ValidationFailed) as failed:
        apply_op(_answered(), "hold", {"id": "h1", "reason": reason}, KARI, now=T0 + MINUTE)
    # Then the reason is named, with the choices, as bad input rather than a refusal
    assert _fields_of(failed) == ["reason"]
    assert not isinstance(failed.value, ContactRefused)
    assert all(key in failed.value.errors[0].message for key in HOLD_REASONS)


@pytest.mark.parametrize("hold_id", [None, "", "   "])
def test_a_hold_needs_its_id(hold_id: Any) -> None:
    with pytest.raises(ValidationFailed) as failed:
        apply_op(_answered(), "hold", {"id": hold_id, "reason": "check"}, KARI, now=T0 + MINUTE)
    assert _fields_of(failed) == ["id"]


@pytest.mark.parametrize(
    ("make", "state"),
    [
        (_ringing, "ringing"),
        (_ended, "ended"),
        (lambda: {**_ringing(), "state": "abandoned"}, "abandoned"),
    ],
)
def test_only_a_call_in_progress_can_be_held(make: Any, state: str) -> None:
    # Given a call that is not in progress
    record = make()
    assert record["state"] == state
    # When someone tries to put it on hold
    with pytest.raises(ContactRefused) as refused:
        apply_op(record, "hold", {"id": "h1", "reason": "check"}, KARI, now=T0 + 2 * MINUTE)
    # Then it is refused because of its state
    assert _fields_of(refused) == ["state"]


def test_another_agent_cannot_hold_a_call_someone_else_owns() -> None:
    # Given a call Kari answered
    record = _answered(KARI)
    # When Ola tries to put it on hold
    with pytest.raises(ContactRefused) as refused:
        apply_op(record, "hold", {"id": "h1", "reason": "check"}, OLA, now=T0 + MINUTE)
    # Then he is refused and told who has it
    assert _fields_of(refused) == ["owner"]
    assert "Kari Nordmann" in refused.value.errors[0].message


def test_a_supervisor_may_hold_a_call_another_agent_owns() -> None:
    # Given a call Kari answered
    # When Per, a supervisor, puts it on hold
    after = apply_op(_answered(KARI), "hold", {"id": "h1", "reason": "check"}, PER, now=T0)
    # Then the hold is recorded as his, and the call stays Kari's
    assert after["holds"][0]["by"] == "Per Olsen"
    assert after["owner_id"] == "u-kari"


def test_the_same_hold_sent_twice_changes_nothing() -> None:
    # Given a call on hold since T0+20s
    record = _on_hold()
    # When the same hold is sent again later, even with another reason (a retry)
    again = apply_op(record, "hold", {"id": "h1", "reason": "system"}, KARI, now=T0 + MINUTE)
    # Then the record is as it was
    assert again == record
    assert len(again["holds"]) == 1


# --- check_back -----------------------------------------------------------------------------


def test_a_check_back_is_appended_to_its_hold_with_its_time_and_lateness() -> None:
    # Given a call on hold since T0+20s
    record = _on_hold()
    # When Kari checks back on the caller at T0+55s, 4.96 seconds late
    after = apply_op(record, "check_back", {"id": "h1", "late_s": 4.96}, KARI, now=T0 + 55 * SECOND)
    # Then the check-back is on that hold, its lateness rounded to a tenth of a second
    assert after["holds"][0]["check_backs"] == [{"at": _iso(T0 + 55 * SECOND), "late_s": 5.0}]
    # And the hold is still open
    assert after["holds"][0]["end"] is None


@pytest.mark.parametrize(
    ("late_s", "recorded"),
    [(12.34, 12.3), (12.36, 12.4), (0, 0.0), (0.04, 0.0), (7, 7.0)],
)
def test_check_back_lateness_is_rounded_to_a_tenth_and_never_negative(
    late_s: float, recorded: float
) -> None:
    after = apply_op(
        _on_hold(), "check_back", {"id": "h1", "late_s": late_s}, KARI, now=T0 + MINUTE
    )
    late = after["holds"][0]["check_backs"][0]["late_s"]
    assert late == recorded
    assert late >= 0
    assert isinstance(late, float)


def test_a_check_back_without_lateness_was_on_time() -> None:
    after = apply_op(_on_hold(), "check_back", {"id": "h1"}, KARI, now=T0 + 50 * SECOND)
    assert after["holds"][0]["check_backs"][0]["late_s"] == 0.0


@pytest.mark.parametrize("late_s", [-1, -0.05, math.nan, math.inf, "x", "3", True, None, [1]])
def test_check_back_lateness_must_be_a_finite_number_not_below_zero(late_s: Any) -> None:
    # Given a check-back whose lateness is negative, not finite or not a number
    # When it is applied
    with pytest.raises(ValidationFailed) as failed:
        apply_op(_on_hold(), "check_back", {"id": "h1", "late_s": late_s}, KARI, now=T0 + MINUTE)
    # Then the lateness is named
    assert _fields_of(failed) == ["late_s"]


def test_a_check_back_on_an_unknown_hold_is_refused() -> None:
    # Given a call on hold "h1"
    # When a check-back arrives for hold "h9"
    with pytest.raises(ValidationFailed) as failed:
        apply_op(_on_hold(), "check_back", {"id": "h9"}, KARI, now=T0 + MINUTE)
    # Then the id is named
    assert _fields_of(failed) == ["id"]


def test_a_check_back_needs_the_id_of_its_hold() -> None:
    with pytest.raises(ValidationFailed) as failed:
        apply_op(_on_hold(), "check_back", {"late_s": 1}, KARI, now=T0 + MINUTE)
    assert _fields_of(failed) == ["id"]


def test_a_check_back_after_the_hold_ended_is_ignored() -> None:
    # Given a hold resumed at T0+40s
    record = apply_op(_on_hold(), "resume", {"id": "h1"}, KARI, now=T0 + 40 * SECOND)
    # When a check-back synced late arrives for it
    after = apply_op(record, "check_back", {"id": "h1", "late_s": 2}, KARI, now=T0 + MINUTE)
    # Then nothing is added to the ended hold
    assert after["holds"][0]["check_backs"] == []
    assert after == record


def test_the_same_check_back_sent_twice_is_recorded_once() -> None:
    # Given a check-back at T0+50s
    fields = {"id": "h1", "late_s": 0, "at": _iso(T0 + 50 * SECOND)}
    once = apply_op(_on_hold(), "check_back", fields, KARI, now=T0 + 50 * SECOND)
    # When it is sent again (a retry, the same moment written with another offset)
    twice = apply_op(
        once,
        "check_back",
        {**fields, "at": "2026-11-23T10:00:50+01:00"},
        KARI,
        now=T0 + MINUTE,
    )
    # Then it is recorded once
    assert twice["holds"][0]["check_backs"] == [{"at": _iso(T0 + 50 * SECOND), "late_s": 0.0}]


def test_check_backs_at_different_moments_are_all_kept_in_order() -> None:
    record = _on_hold()
    for seconds in (50, 85, 120):
        record = apply_op(record, "check_back", {"id": "h1"}, KARI, now=T0 + seconds * SECOND)
    assert [c["at"] for c in record["holds"][0]["check_backs"]] == [
        _iso(T0 + 50 * SECOND),
        _iso(T0 + 85 * SECOND),
        _iso(T0 + 120 * SECOND),
    ]


def test_a_check_back_goes_to_the_hold_it_names_only() -> None:
    # Given a call with a resumed hold h1 and an open hold h2
    record = apply_op(_on_hold(), "resume", {"id": "h1"}, KARI, now=T0 + 40 * SECOND)
    record = apply_op(record, "hold", {"id": "h2", "reason": "check"}, KARI, now=T0 + MINUTE)
    # When Kari checks back on h2
    after = apply_op(record, "check_back", {"id": "h2"}, KARI, now=T0 + 95 * SECOND)
    # Then only h2 has the check-back
    assert after["holds"][0] == record["holds"][0]
    assert len(after["holds"][1]["check_backs"]) == 1


# --- resume ---------------------------------------------------------------------------------


def test_resuming_closes_the_hold_with_its_end_time_and_how_it_ended() -> None:
    # Given a call on hold since T0+20s
    # When Kari takes the caller back at T0+45s
    after = apply_op(_on_hold(), "resume", {"id": "h1"}, KARI, now=T0 + 45 * SECOND)
    # Then the hold ended then, resumed
    hold = after["holds"][0]
    assert hold["end"] == _iso(T0 + 45 * SECOND)
    assert hold["how"] == "resumed"
    assert hold["start"] == _iso(T0 + 20 * SECOND)


@pytest.mark.parametrize("how", HOLD_ENDS)
def test_a_hold_can_end_resumed_transferred_or_hung_up(how: str) -> None:
    assert set(HOLD_ENDS) == {"resumed", "transferred", "hung up"}
    after = apply_op(_on_hold(), "resume", {"id": "h1", "how": how}, KARI, now=T0 + MINUTE)
    assert after["holds"][0]["how"] == how
    assert after["holds"][0]["end"] == _iso(T0 + MINUTE)


@pytest.mark.parametrize("how", ["dropped", "Resumed", "hung-up", ["resumed"]])
def test_a_hold_cannot_end_in_an_unknown_way(how: Any) -> None:
    with pytest.raises(ValidationFailed) as failed:
        apply_op(_on_hold(), "resume", {"id": "h1", "how": how}, KARI, now=T0 + MINUTE)
    assert _fields_of(failed) == ["how"]


def test_a_resume_stamped_before_the_hold_began_ends_it_at_its_start() -> None:
    # Given a hold that began at T0+20s, and a desk whose clock runs behind
    # When the resume arrives stamped five seconds before the hold began
    after = apply_op(
        _on_hold(),
        "resume",
        {"id": "h1", "at": _iso(T0 + 15 * SECOND)},
        KARI,
        now=T0 + MINUTE,
    )
    # Then the hold ends at its start, never before it
    assert after["holds"][0]["end"] == _iso(T0 + 20 * SECOND)


def test_resuming_an_ended_hold_again_keeps_the_first_end() -> None:
    # Given a hold resumed at T0+45s
    record = apply_op(_on_hold(), "resume", {"id": "h1"}, KARI, now=T0 + 45 * SECOND)
    # When it is ended again later, another way
    again = apply_op(record, "resume", {"id": "h1", "how": "hung up"}, KARI, now=T0 + MINUTE)
    # Then nothing changes: the first end and how it ended are kept
    assert again == record
    assert again["holds"][0]["end"] == _iso(T0 + 45 * SECOND)
    assert again["holds"][0]["how"] == "resumed"


def test_resuming_an_unknown_hold_is_refused() -> None:
    with pytest.raises(ValidationFailed) as failed:
        apply_op(_answered(), "resume", {"id": "h1"}, KARI, now=T0 + MINUTE)
    assert _fields_of(failed) == ["id"]


# --- transfer -------------------------------------------------------------------------------


def test_a_warm_transfer_to_a_colleague_is_offered_with_its_announcement() -> None:
    # Given a call Kari answered
    # When she announces it to Ola
    after = apply_op(_answered(KARI), "transfer", WARM_TO_OLA, KARI, now=T0 + 30 * SECOND)
    # Then one transfer waits for Ola's answer
    assert len(after["transfers"]) == 1
    transfer = after["transfers"][0]
    assert transfer["id"] == "t1"
    assert transfer["to_user"] == "ola"
    assert transfer["to_team"] == ""
    assert transfer["mode"] == "warm"
    assert transfer["announcement"] == WARM_TO_OLA["announcement"]
    assert transfer["state"] == "offered"
    assert transfer["by"] == "Kari Nordmann"
    assert transfer["by_user"] == "kari"
    assert transfer["at"] == _iso(T0 + 30 * SECOND)
    assert transfer["answered_at"] is None
    assert transfer["answered_by"] == ""
    # And until he answers, the call stays Kari's
    assert after["owner_id"] == "u-kari"
    assert after["state"] == "answered"


def test_a_blind_transfer_needs_no_announcement_and_is_marked_blind() -> None:
    after = _transferred(BLIND_TO_SECOND_LINE)
    transfer = after["transfers"][0]
    assert transfer["state"] == "blind"
    assert transfer["mode"] == "blind"
    assert transfer["to_team"] == "second-line"
    assert transfer["to_user"] == ""
    assert transfer["announcement"] == ""


def test_a_transfer_without_a_mode_is_warm() -> None:
    fields = {k: v for k, v in WARM_TO_OLA.items() if k != "mode"}
    after = _transferred(fields)
    assert after["transfers"][0]["mode"] == "warm"
    assert after["transfers"][0]["state"] == "offered"


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"id": "t1", "to_user": "ola", "mode": "blind"}, "ola"),
        ({"id": "t1", "to_team": "second-line", "mode": "blind"}, "second-line"),
        ({"id": "t1", "to_user": "ola", "to_name": "Ola Hansen", "mode": "blind"}, "Ola Hansen"),
    ],
)
def test_a_transfer_is_named_after_who_takes_it_unless_a_name_is_given(
    fields: dict[str, Any], name: str
) -> None:
    assert _transferred(fields)["transfers"][0]["to_name"] == name


@pytest.mark.parametrize(
    "to",
    [
        {},
        {"to_user": "", "to_team": "  "},
        {"to_user": "ola", "to_team": "second-line"},
    ],
)
def test_a_transfer_goes_to_exactly_one_colleague_or_one_team(to: dict[str, Any]) -> None:
    # Given a transfer to nobody, or to a colleague and a team at once
    # When it is applied
    with pytest.raises(ValidationFailed) as failed:
        _transferred({"id": "t1", "mode": "blind", **to})
    # Then "to" is named
    assert _fields_of(failed) == ["to"]


def test_a_call_cannot_be_transferred_to_the_agent_who_has_it() -> None:
    with pytest.raises(ValidationFailed) as failed:
        _transferred({"id": "t1", "to_user": "kari", "mode": "blind"})
    assert _fields_of(failed) == ["to"]
    assert "yours" in failed.value.errors[0].message


@pytest.mark.parametrize("mode", ["cold", "WARM", "consult", ["warm"]])
def test_a_transfer_is_warm_or_blind(mode: Any) -> None:
    with pytest.raises(ValidationFailed) as failed:
        _transferred({**WARM_TO_OLA, "mode": mode})
    assert _fields_of(failed) == ["mode"]


@pytest.mark.parametrize("announcement", [None, "", "   \n  "])
def test_a_warm_transfer_needs_an_announcement(announcement: str | None) -> None:
    # Given a warm transfer that does not tell the colleague what the call is about
    with pytest.raises(ValidationFailed) as failed:
        _transferred({**WARM_TO_OLA, "announcement": announcement})
    # Then the announcement is asked for
    assert _fields_of(failed) == ["announcement"]


def test_an_announcement_of_at_most_a_thousand_characters_is_accepted() -> None:
    text = "x" * MAX_ANNOUNCEMENT
    assert MAX_ANNOUNCEMENT == 1000
    after = _transferred({**WARM_TO_OLA, "announcement": text})
    assert after["transfers"][0]["announcement"] == text


@pytest.mark.parametrize("mode", ["warm", "blind"])
def test_an_announcement_over_a_thousand_characters_is_refused(mode: str) -> None:
    with pytest.raises(ValidationFailed) as failed:
        _transferred({**WARM_TO_OLA, "mode": mode, "announcement": "x" * (MAX_ANNOUNCEMENT + 1)})
    assert "announcement" in _fields_of(failed)
    assert "too long" in failed.value.by_field()["announcement"]


@pytest.mark.parametrize(
    ("make", "state"),
    [
        (_ringing, "ringing"),
        (_ended, "ended"),
        (lambda: {**_ringing(), "state": "abandoned"}, "abandoned"),
    ],
)
def test_only_a_call_in_progress_can_be_transferred(make: Any, state: str) -> None:
    record = make()
    assert record["state"] == state
    with pytest.raises(ContactRefused) as refused:
        apply_op(record, "transfer", WARM_TO_OLA, KARI, now=T0 + 2 * MINUTE)
    assert _fields_of(refused) == ["state"]


def test_another_agent_cannot_transfer_a_call_someone_else_owns() -> None:
    # Given a call Kari answered
    # When Ola tries to transfer it to the second line
    with pytest.raises(ContactRefused) as refused:
        apply_op(_answered(KARI), "transfer", BLIND_TO_SECOND_LINE, OLA, now=T0 + MINUTE)
    # Then he is refused and told who has it
    assert _fields_of(refused) == ["owner"]
    assert "Kari Nordmann" in refused.value.errors[0].message


def test_a_second_transfer_while_one_waits_for_an_answer_is_refused() -> None:
    # Given a warm transfer to Ola still waiting for his answer
    record = _transferred(WARM_TO_OLA)
    # When Kari also tries to send the call to the second line
    with pytest.raises(ContactRefused) as refused:
        apply_op(record, "transfer", {**BLIND_TO_SECOND_LINE, "id": "t2"}, KARI, now=T0 + MINUTE)
    # Then she is told a transfer is already waiting
    assert _fields_of(refused) == ["to"]


def test_a_new_transfer_may_follow_a_declined_one() -> None:
    # Given a warm transfer Ola declined
    record = apply_op(
        _transferred(WARM_TO_OLA), "transfer_answer", {"id": "t1", "accepted": False}, OLA, now=T0
    )
    # When Kari then sends the call to the second line
    after = apply_op(
        record, "transfer", {**BLIND_TO_SECOND_LINE, "id": "t2"}, KARI, now=T0 + MINUTE
    )
    # Then both transfers are on the record
    assert [(t["id"], t["state"]) for t in after["transfers"]] == [
        ("t1", "declined"),
        ("t2", "blind"),
    ]


def test_the_same_transfer_sent_twice_is_recorded_once() -> None:
    # Given a warm transfer to Ola
    record = _transferred(WARM_TO_OLA)
    # When the same transfer is sent again (a retry), even though one is now offered
    again = apply_op(record, "transfer", WARM_TO_OLA, KARI, now=T0 + MINUTE)
    # Then it is recorded once and nothing changes
    assert again == record
    assert len(again["transfers"]) == 1


def test_a_transfer_needs_its_id() -> None:
    with pytest.raises(ValidationFailed) as failed:
        _transferred({k: v for k, v in WARM_TO_OLA.items() if k != "id"})
    assert _fields_of(failed) == ["id"]


# --- transfer_answer ------------------------------------------------------------------------


def test_accepting_a_transfer_hands_the_call_to_the_colleague() -> None:
    # Given a warm transfer from Kari to Ola
    record = _transferred(WARM_TO_OLA)
    # When Ola accepts it at T0+40s
    after = apply_op(
        record, "transfer_answer", {"id": "t1", "accepted": True}, OLA, now=T0 + 40 * SECOND
    )
    # Then the transfer is accepted by him, then, and he owns the call
    transfer = after["transfers"][0]
    assert transfer["state"] == "accepted"
    assert transfer["answered_at"] == _iso(T0 + 40 * SECOND)
    assert transfer["answered_by"] == "Ola Hansen"
    assert after["owner_id"] == "u-ola"
    assert after["owner_name"] == "Ola Hansen"


def test_a_team_member_may_take_a_blind_transfer_to_the_team() -> None:
    # Given a blind transfer to the second line
    record = _transferred(BLIND_TO_SECOND_LINE)
    # When Siv, who works in the second line, takes it
    after = apply_op(
        record, "transfer_answer", {"id": "t1", "accepted": True}, SIV, now=T0 + MINUTE
    )
    # Then the call is hers
    assert after["transfers"][0]["state"] == "accepted"
    assert after["transfers"][0]["answered_by"] == "Siv Berg"
    assert after["owner_id"] == "u-siv"
    assert after["owner_name"] == "Siv Berg"


def test_declining_a_transfer_leaves_the_call_with_its_owner() -> None:
    # Given a warm transfer from Kari to Ola
    record = _transferred(WARM_TO_OLA)
    # When Ola declines it
    after = apply_op(
        record, "transfer_answer", {"id": "t1", "accepted": False}, OLA, now=T0 + 40 * SECOND
    )
    # Then it is marked declined by him, and the call is still Kari's
    transfer = after["transfers"][0]
    assert transfer["state"] == "declined"
    assert transfer["answered_by"] == "Ola Hansen"
    assert transfer["answered_at"] == _iso(T0 + 40 * SECOND)
    assert after["owner_id"] == "u-kari"
    assert after["owner_name"] == "Kari Nordmann"


@pytest.mark.parametrize(
    ("fields", "actor"),
    [
        (WARM_TO_OLA, SIV),  # a colleague the transfer is not for
        (WARM_TO_OLA, PER),  # a supervisor is not the addressee either
        (BLIND_TO_SECOND_LINE, OLA),  # someone outside the team
        (BLIND_TO_SECOND_LINE, Actor(user_id="u-x", username="x")),  # no team at all
    ],
)
def test_only_the_addressed_colleague_or_team_may_answer_a_transfer(
    fields: dict[str, Any], actor: Actor
) -> None:
    record = _transferred(fields)
    with pytest.raises(ContactRefused) as refused:
        apply_op(record, "transfer_answer", {"id": "t1", "accepted": True}, actor, now=T0 + MINUTE)
    assert _fields_of(refused) == ["to"]


@pytest.mark.parametrize("accepted", [None, "yes", "true", 1, 0])
def test_a_transfer_answer_is_true_or_false(accepted: Any) -> None:
    record = _transferred(WARM_TO_OLA)
    with pytest.raises(ValidationFailed) as failed:
        apply_op(record, "transfer_answer", {"id": "t1", "accepted": accepted}, OLA, now=T0)
    assert _fields_of(failed) == ["accepted"]


def test_answering_an_unknown_transfer_is_refused() -> None:
    with pytest.raises(ValidationFailed) as failed:
        apply_op(
            _transferred(WARM_TO_OLA),
            "transfer_answer",
            {"id": "t9", "accepted": True},
            OLA,
            now=T0 + MINUTE,
        )
    assert _fields_of(failed) == ["id"]


@pytest.mark.parametrize("second", [True, False])
def test_the_same_colleague_answering_again_changes_nothing(second: bool) -> None:
    # Given a transfer Ola accepted at T0+40s
    record = apply_op(
        _transferred(WARM_TO_OLA),
        "transfer_answer",
        {"id": "t1", "accepted": True},
        OLA,
        now=T0 + 40 * SECOND,
    )
    # When his answer arrives again later (a retry, or a second click)
    again = apply_op(
        record, "transfer_answer", {"id": "t1", "accepted": second}, OLA, now=T0 + MINUTE
    )
    # Then nothing changes
    assert again == record


def test_a_second_team_member_cannot_take_a_transfer_someone_already_took() -> None:
    # Given a blind transfer to the second line that Siv took
    record = apply_op(
        _transferred(BLIND_TO_SECOND_LINE),
        "transfer_answer",
        {"id": "t1", "accepted": True},
        SIV,
        now=T0 + 40 * SECOND,
    )
    # When Tor, also in the second line, tries to take it too
    with pytest.raises(ContactRefused) as refused:
        apply_op(record, "transfer_answer", {"id": "t1", "accepted": True}, TOR, now=T0 + MINUTE)
    # Then he is refused because it is already answered, and the call stays Siv's
    assert _fields_of(refused) == ["state"]
    assert "Siv Berg" in refused.value.errors[0].message
    assert record["owner_id"] == "u-siv"


def test_a_different_person_with_the_same_name_cannot_take_an_answered_transfer() -> None:
    # Given a blind transfer to the second line that Siv Berg (u-siv) took
    record = apply_op(
        _transferred(BLIND_TO_SECOND_LINE),
        "transfer_answer",
        {"id": "t1", "accepted": True},
        SIV,
        now=T0 + 40 * SECOND,
    )
    # When another second-line colleague, who is also called Siv Berg, tries to take it
    namesake = Actor(
        user_id="u-siv2", username="sivb", full_name="Siv Berg", department="second-line"
    )
    # Then she is refused because it is already answered (she is a different person)
    with pytest.raises(ContactRefused) as refused:
        apply_op(
            record, "transfer_answer", {"id": "t1", "accepted": True}, namesake, now=T0 + MINUTE
        )
    assert _fields_of(refused) == ["state"]


def test_a_declined_transfer_cannot_be_taken_by_someone_else_afterwards() -> None:
    # Given a blind transfer to the second line that Siv declined
    record = apply_op(
        _transferred(BLIND_TO_SECOND_LINE),
        "transfer_answer",
        {"id": "t1", "accepted": False},
        SIV,
        now=T0 + 40 * SECOND,
    )
    # When Tor tries to take it
    with pytest.raises(ContactRefused) as refused:
        apply_op(record, "transfer_answer", {"id": "t1", "accepted": True}, TOR, now=T0 + MINUTE)
    # Then he is refused: that transfer is answered; the call stays Kari's
    assert _fields_of(refused) == ["state"]
    assert record["owner_id"] == "u-kari"


def test_the_colleague_who_accepted_a_call_may_hold_and_transfer_it() -> None:
    # Given a call Ola took over from Kari
    record = apply_op(
        _transferred(WARM_TO_OLA), "transfer_answer", {"id": "t1", "accepted": True}, OLA, now=T0
    )
    # When he holds it and sends it on to the second line
    held = apply_op(record, "hold", {"id": "h1", "reason": "colleague"}, OLA, now=T0 + MINUTE)
    sent = apply_op(held, "transfer", {**BLIND_TO_SECOND_LINE, "id": "t2"}, OLA, now=T0 + MINUTE)
    # Then both are recorded as his
    assert held["holds"][0]["by"] == "Ola Hansen"
    assert sent["transfers"][1]["by_user"] == "ola"
    # And Kari, who no longer owns it, may neither hold nor transfer it
    with pytest.raises(ContactRefused) as refused:
        apply_op(record, "hold", {"id": "h2", "reason": "check"}, KARI, now=T0 + MINUTE)
    assert _fields_of(refused) == ["owner"]
    with pytest.raises(ContactRefused) as refused:
        apply_op(record, "transfer", {**BLIND_TO_SECOND_LINE, "id": "t3"}, KARI, now=T0)
    assert _fields_of(refused) == ["owner"]


# --- text fields ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({**WARM_TO_OLA, "announcement": "a\x00b"}, "announcement"),
        ({**WARM_TO_OLA, "announcement": 42}, "announcement"),
        ({**BLIND_TO_SECOND_LINE, "to_user": ["x"]}, "to_user"),
        ({**BLIND_TO_SECOND_LINE, "to_user": "o\x07la"}, "to_user"),
        ({**WARM_TO_OLA, "to_team": {"team": "x"}}, "to_team"),
        ({**WARM_TO_OLA, "to_team": "second\x1bline"}, "to_team"),
        ({**WARM_TO_OLA, "to_name": 3.5}, "to_name"),
        ({**WARM_TO_OLA, "to_name": "Ola\x7f"}, "to_name"),
        ({**WARM_TO_OLA, "id": ["t1"]}, "id"),
        ({**WARM_TO_OLA, "id": "t\x001"}, "id"),
    ],
)
def test_transfer_text_that_is_not_text_or_has_control_characters_is_refused(
    fields: dict[str, Any], field: str
) -> None:
    # Given a transfer with a field that is not text, or text with control characters
    # When it is applied
    with pytest.raises(ValidationFailed) as failed:
        _transferred(fields)
    # Then that field is named first, with what is wrong
    assert field in _fields_of(failed)
    message = failed.value.by_field()[field]
    assert "control characters" in message or "expected text" in message


def test_a_hold_id_with_control_characters_is_refused() -> None:
    with pytest.raises(ValidationFailed) as failed:
        apply_op(_answered(), "hold", {"id": "h\x001", "reason": "check"}, KARI, now=T0)
    assert _fields_of(failed) == ["id"]
    assert "control characters" in failed.value.errors[0].message


def test_a_multi_line_announcement_keeps_its_lines() -> None:
    text = "Nils at Acme.\nPayslips do not print.\n\tYou set up their printer."
    after = _transferred({**WARM_TO_OLA, "announcement": f"  {text}  "})
    assert after["transfers"][0]["announcement"] == text


# --- the record passed in -------------------------------------------------------------------


def _busy_record() -> dict[str, Any]:
    """Kari's call with an open hold that has a check-back, and a warm transfer offered."""
    record = _on_hold()
    record = apply_op(record, "check_back", {"id": "h1", "late_s": 1.5}, KARI, now=T0 + MINUTE)
    return apply_op(record, "transfer", WARM_TO_OLA, KARI, now=T0 + MINUTE)


@pytest.mark.parametrize(
    ("op", "fields", "actor"),
    [
        ("hold", {"id": "h2", "reason": "system"}, KARI),
        ("hold", {"id": "h1", "reason": "check"}, KARI),
        ("check_back", {"id": "h1", "late_s": 3}, KARI),
        ("check_back", {"id": "h1", "at": _iso(T0 + MINUTE)}, KARI),
        ("resume", {"id": "h1", "how": "transferred"}, KARI),
        ("transfer", WARM_TO_OLA, KARI),
        ("transfer_answer", {"id": "t1", "accepted": True}, OLA),
        ("transfer_answer", {"id": "t1", "accepted": False}, OLA),
    ],
)
def test_a_hold_or_transfer_step_never_changes_the_record_it_was_given(
    op: str, fields: dict[str, Any], actor: Actor
) -> None:
    # Given a call with a hold, a check-back and an offered transfer
    record = _busy_record()
    before = copy.deepcopy(record)
    # When a hold or transfer step is applied to it
    after = apply_op(record, op, fields, actor, now=T0 + 2 * MINUTE)
    # Then the record passed in is untouched, nested lists and entries included
    assert record == before
    assert after is not record


def test_a_refused_step_never_changes_the_record_it_was_given() -> None:
    record = _busy_record()
    before = copy.deepcopy(record)
    with pytest.raises(ContactRefused):
        apply_op(record, "transfer_answer", {"id": "t1", "accepted": True}, SIV, now=T0)
    with pytest.raises(ValidationFailed):
        apply_op(record, "check_back", {"id": "h1", "late_s": -1}, KARI, now=T0)
    assert record == before


def test_a_record_from_before_holds_and_transfers_gets_empty_lists() -> None:
    # Given an answered call stored before the desk knew holds and transfers
    record = _answered(KARI)
    record.pop("holds", None)
    record.pop("transfers", None)
    before = copy.deepcopy(record)
    # When it is put on hold
    after = apply_op(record, "hold", {"id": "h1", "reason": "check"}, KARI, now=T0 + MINUTE)
    # Then the hold is recorded, transfers start empty, and the old record is unchanged
    assert len(after["holds"]) == 1
    assert after["transfers"] == []
    assert record == before
