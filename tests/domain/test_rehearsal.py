"""The rehearsal scorer: explainable points, natural variations accepted, the coach's words to
avoid, order (TEXAS), hold timing and whole-call rules; and the scenario library itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentdesk.domain.coach import load_coach
from agentdesk.domain.rehearsal import (
    SCENARIOS_DIR,
    ScenarioError,
    check_scenarios,
    find_scenario,
    load_scenario,
    load_scenarios,
    score,
)

IDS = {
    "greeting",
    "get-name",
    "hold",
    "check-back",
    "transfer",
    "take-message",
    "complaint-response-time",
    "repeat-complaint",
    "system-down",
    "training-need",
    "engineer-phone-request",
    "intercepted-engineer",
    "closing",
}


def _scenario(scenario_id: str, lang: str = "en"):  # type: ignore[no-untyped-def]
    found = find_scenario(load_scenarios(lang), scenario_id)
    assert found is not None
    return found


def test_the_english_library_has_every_scenario_and_validates() -> None:
    assert {s.id for s in load_scenarios("en")} == IDS
    assert check_scenarios() == []


@pytest.mark.parametrize("scenario_id", sorted(IDS))
def test_every_model_answer_scores_full_marks(scenario_id: str) -> None:
    scenario = _scenario(scenario_id)
    result = score(scenario, [turn.model for turn in scenario.turns])
    assert (result.score, result.passed) == (100, True), result.as_json()


@pytest.mark.parametrize(
    "reply",
    [
        "Good afternoon, IT Service Desk, this is Kari Nordmann. How can I help you?",
        "Hello, Nordlys IT support, Ola Hansen speaking, what can I do for you?",
    ],
)
def test_natural_variations_of_a_right_greeting_pass(reply: str) -> None:
    result = score(_scenario("greeting"), [reply])
    assert result.turns[0].passed, result.as_json()


def test_a_wrong_greeting_says_what_is_missing_and_what_to_say() -> None:
    result = score(_scenario("greeting"), ["Help desk."])
    turn = result.turns[0]
    assert not turn.passed and turn.score < 50
    missing = [f for f in turn.findings if f.kind == "missing"]
    assert {f.reason for f in missing} >= {"missing: a salutation", "missing: an offer of help"}
    assert all(f.suggestion for f in missing)


def test_a_greeting_out_of_order_loses_points_with_the_reason() -> None:
    reply = "How may I help you? Good morning, help desk, Ingrid Solberg speaking."
    turn = score(_scenario("greeting"), [reply]).turns[0]
    assert not turn.passed
    assert [f.kind for f in turn.findings].count("order") == 1


def test_texas_in_the_wrong_order_is_named() -> None:
    scenario = _scenario("complaint-response-time")
    reply = "I'm sorry. Thank you for telling me; the ticket was not passed on, our mistake."
    turn = score(scenario, [reply]).turns[0]
    order = [f for f in turn.findings if f.kind == "order"]
    assert order and "thank → explain → accept → sorry" in order[0].reason


def test_the_coachs_words_to_avoid_cost_points_and_say_what_instead() -> None:
    scenario = _scenario("hold")
    reply = "Hold on, may I put you on hold for a minute while I check?"
    turn = score(scenario, [reply], coach=load_coach("en")).turns[0]
    avoid = [f for f in turn.findings if f.kind == "avoid"]
    assert avoid and "Hold on" in avoid[0].reason and avoid[0].suggestion
    assert not turn.passed


def test_revealing_where_a_colleague_is_fails_the_screening() -> None:
    scenario = _scenario("take-message")
    replies = [
        "May I say who is calling?",
        "Thank you. Ola is at lunch; can I take a message?",
    ]
    turn = score(scenario, replies).turns[1]
    assert any(f.kind == "avoid" and "where the colleague is" in f.reason for f in turn.findings)


def test_a_hold_check_back_after_forty_seconds_is_late() -> None:
    scenario = _scenario("check-back")
    reply = scenario.turns[0].model
    on_time = score(scenario, [reply], seconds=[32.0]).turns[0]
    late = score(scenario, [reply], seconds=[55.0]).turns[0]
    assert on_time.passed and not late.passed
    assert any(f.kind == "late" for f in late.findings)


def test_whole_call_rules_need_the_name_and_promises_with_times() -> None:
    scenario = _scenario("closing")
    replies = [
        "Before I go: the toner arrives ASAP. Anything else?",
        "Thank you for calling.",
    ]
    result = score(scenario, replies)
    reasons = [f.reason for f in result.call_findings]
    assert any("name was used" in r for r in reasons)
    assert any("not summarised" in r for r in reasons)
    assert not result.passed


def test_only_the_turns_given_are_scored() -> None:
    scenario = _scenario("take-message")
    result = score(scenario, ["May I say who is calling?"])
    assert len(result.turns) == 1 and result.turns[0].passed
    assert result.call_findings == ()


def test_a_broken_scenario_file_names_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "en" / "bad.yaml"
    bad.parent.mkdir()
    bad.write_text(
        "id: bad\nlanguage: en\ntitle: Bad\nturns:\n"
        "  - caller: Hi\n    section: nowhere\n    model: Hello\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as failed:
        load_scenario(bad)
    assert f"{bad}:5" in str(failed.value) and "section must be one of" in str(failed.value)
    assert check_scenarios(tmp_path) == [str(failed.value)]
    assert SCENARIOS_DIR.is_dir()


@pytest.mark.parametrize("lang", ["zh", "nb"])
def test_every_language_has_every_scenario_with_the_same_shape(lang: str) -> None:
    english = {s.id: s for s in load_scenarios("en")}
    for scenario in load_scenarios(lang):
        twin = english[scenario.id]
        assert [t.section for t in scenario.turns] == [t.section for t in twin.turns]
        assert [[e.id for e in t.elements] for t in scenario.turns] == [
            [e.id for e in t.elements] for t in twin.turns
        ]
        result = score(scenario, [turn.model for turn in scenario.turns])
        assert (result.score, result.passed) == (100, True), (scenario.id, result.as_json())
    assert {s.id for s in load_scenarios(lang)} == IDS
