"""Training records in the core: attempts scored where they are kept, reviews, assignments,
progress over time, and standard answers that must pass their own rubric."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from agentdesk.domain.contacts import Actor
from agentdesk.domain.errors import ValidationFailed
from agentdesk.domain.training import (
    Trainee,
    apply_assignment_op,
    apply_attempt_op,
    assignment_status,
    check_standard_answer,
    find,
    new_assignment,
    new_attempt,
    progress,
    with_answers,
)

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
TOM = Actor(user_id="u-tom", username="tom", full_name="Tom Berg")
ANNA = Actor(user_id="u-anna", username="anna", full_name="Anna Lind", supervisor=True)
GREETING = "Good morning, Northern Lights IT help desk, this is Tom Berg. How can I help you?"


def fields(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "scenario": "greeting",
        "language": "en",
        "replies": [GREETING],
        "seconds": [3.2],
        "started_at": (NOW - dt.timedelta(minutes=1)).isoformat(),
    }
    return {**base, **changes}


def errors_of(call: Any) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as failed:
        call()
    return failed.value.by_field()


def test_an_attempt_is_scored_from_its_replies() -> None:
    record = new_attempt(fields(score=3), TOM, attempt_id="a1", now=NOW)
    assert (record["score"], record["passed"], record["complete"]) == (100, True, True)
    assert record["sections"] == {"greeting": 100}
    assert record["trainee"] == "tom" and record["title"]
    assert record["result"]["turns"][0]["passed"] is True
    weak = new_attempt(fields(replies=["Hello?"]), TOM, attempt_id="a2", now=NOW)
    assert weak["passed"] is False and weak["score"] < 70


def test_an_unfinished_attempt_never_passes() -> None:
    scenario = find("take-message", "en")
    assert scenario is not None and len(scenario.turns) == 3
    record = new_attempt(
        fields(scenario="take-message", replies=[scenario.turns[0].model], seconds=[2]),
        TOM,
        attempt_id="a",
        now=NOW,
    )
    assert record["result"]["turns"][0]["passed"] is True
    assert (record["complete"], record["passed"]) == (False, False)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"scenario": "nope"}, "scenario"),
        ({"scenario": ""}, "scenario"),
        ({"language": "de"}, "language"),
        ({"replies": []}, "replies"),
        ({"replies": ["   "]}, "replies[0]"),
        ({"replies": [GREETING, "a", "b"]}, "replies"),
        ({"replies": ["bad\x00text"]}, "replies[0]"),
        ({"seconds": [1, 2]}, "seconds"),
        ({"seconds": [float("nan")]}, "seconds[0]"),
        ({"seconds": [True]}, "seconds[0]"),
        ({"started_at": ""}, "started_at"),
        ({"started_at": (NOW + dt.timedelta(hours=1)).isoformat()}, "started_at"),
        ({"finished_at": (NOW + dt.timedelta(hours=1)).isoformat()}, "finished_at"),
        ({"finished_at": "not a time"}, "finished_at"),
    ],
)
def test_a_bad_attempt_names_the_field(changes: dict[str, Any], field: str) -> None:
    found = errors_of(lambda: new_attempt(fields(**changes), TOM, attempt_id="a", now=NOW))
    assert field in found, found


def test_only_a_supervisor_reviews_an_attempt() -> None:
    record = new_attempt(fields(), TOM, attempt_id="a1", now=NOW)
    assert "role" in errors_of(
        lambda: apply_attempt_op(record, "review", {"text": "ok"}, TOM, now=NOW)
    )
    assert "text" in errors_of(
        lambda: apply_attempt_op(record, "review", {"text": " "}, ANNA, now=NOW)
    )
    assert "op" in errors_of(lambda: apply_attempt_op(record, "update", {}, ANNA, now=NOW))
    reviewed = apply_attempt_op(record, "review", {"text": "Well done."}, ANNA, now=NOW)
    assert reviewed["reviews"] == [
        {"by": "Anna Lind", "by_id": "u-anna", "at": NOW.isoformat(), "text": "Well done."}
    ]
    assert record["reviews"] == []  # the record given is left as it was


def test_an_assignment_is_done_once_passed_after_it_was_given() -> None:
    tom = Trainee(username="tom", full_name="Tom Berg", user_id="u-tom")
    due = (NOW + dt.timedelta(days=2)).isoformat()
    given = new_assignment(
        {"trainee": "tom", "scenario": "greeting", "language": "en", "due": due},
        ANNA,
        tom,
        assignment_id="s1",
        now=NOW,
    )
    assert (given["state"], given["trainee_name"], given["assigned_by"]) == (
        "open",
        "Tom Berg",
        "Anna Lind",
    )
    earlier = {**new_attempt(fields(), TOM, attempt_id="a0", now=NOW), "finished_at": "2026-11-01"}
    failed = new_attempt(fields(replies=["Hi"]), TOM, attempt_id="a1", now=NOW)
    passed = new_attempt(fields(), TOM, attempt_id="a2", now=NOW + dt.timedelta(hours=1))
    assert assignment_status(given, [earlier, failed], NOW) == "open"
    assert assignment_status(given, [earlier, failed], NOW + dt.timedelta(days=3)) == "overdue"
    assert assignment_status(given, [failed, passed], NOW) == "done"
    cancelled = apply_assignment_op(given, "cancel", {}, ANNA, now=NOW)
    assert assignment_status(cancelled, [passed], NOW) == "cancelled"
    assert "role" in errors_of(lambda: apply_assignment_op(given, "cancel", {}, TOM, now=NOW))


def test_a_bad_assignment_names_the_field() -> None:
    found = errors_of(
        lambda: new_assignment(
            {"trainee": "ghost", "scenario": "x", "language": "en", "due": "2020-01-01T00:00Z"},
            ANNA,
            Trainee(),
            assignment_id="s",
            now=NOW,
        )
    )
    assert set(found) == {"trainee", "scenario", "due"}
    assert "role" in errors_of(
        lambda: new_assignment(
            {"trainee": "tom", "scenario": "greeting", "language": "en"},
            TOM,
            Trainee("tom"),
            assignment_id="s",
            now=NOW,
        )
    )


def test_progress_gives_each_sections_scores_over_time() -> None:
    first = new_attempt(fields(replies=["Hello?"]), TOM, attempt_id="1", now=NOW)
    second = new_attempt(fields(), TOM, attempt_id="2", now=NOW + dt.timedelta(days=1))
    other = {**second, "trainee": "lisa"}
    seen = progress("tom", [second, other, first])
    assert seen.attempts == 2 and seen.passed == 1
    assert [score for _when, score in seen.points] == [first["score"], 100]
    assert [score for _when, score in seen.sections["greeting"]] == [first["score"], 100]
    assert seen.latest == {"greeting": 100}
    assert seen.weakest is None
    assert progress("tom", [first]).weakest == "Greeting"


def test_a_standard_answer_must_pass_its_turn() -> None:
    scenario, turn, _text = check_standard_answer(
        {
            "scenario": "greeting",
            "language": "zh_CN",
            "turn": 0,
            "text": "您好,北极光IT服务台,我是王丽,请问有什么可以帮您?",
        }
    )
    assert (scenario.id, turn) == ("greeting", 0)
    found = errors_of(
        lambda: check_standard_answer(
            {"scenario": "greeting", "language": "en", "turn": 0, "text": "Hello, ASAP."}
        )
    )
    assert "missing" in found["text"] and "ASAP" in found["text"]
    assert "turn" in errors_of(
        lambda: check_standard_answer(
            {"scenario": "greeting", "language": "en", "turn": True, "text": GREETING}
        )
    )


def test_published_answers_replace_the_model_answers() -> None:
    scenario = find("greeting", "en")
    assert scenario is not None
    answers = [
        {"scenario": "greeting", "language": "en", "turn": 0, "text": GREETING},
        {"scenario": "greeting", "language": "nb", "turn": 0, "text": "God dag"},
        {"scenario": "hold", "language": "en", "turn": 0, "text": "Other"},
    ]
    changed = with_answers(scenario, answers)
    assert changed.turns[0].model == GREETING
    assert scenario.turns[0].model != GREETING
    assert with_answers(scenario, []) is scenario
