"""A trainee plays scenarios on the desk: replies scored one by one, a hold check-back timed,
and the result by section with the model answers."""

from __future__ import annotations

from typing import Any

from ui.training import TrainingController, TrainingView


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _play(qtbot: Any, scenario_id: str, replies: list[tuple[str, float]], lang: str = "en") -> Any:
    view = TrainingView()
    qtbot.addWidget(view)
    clock = Clock()
    training = TrainingController(view, clock=clock)
    training.choose(scenario_id, lang)
    view.start_button.click()
    for reply, seconds in replies:
        clock.now += seconds
        view.reply.setPlainText(reply)
        view.send_button.click()
    return view, training


def test_a_whole_scenario_is_played_with_feedback_after_each_reply(qtbot: Any) -> None:
    # Given the screening scenario: three caller lines
    view, training = _play(
        qtbot,
        "take-message",
        [("May I say who is calling?", 6.0), ("Thank you. Ola is at lunch; call later.", 9.0)],
    )
    # Then after the second reply the feedback says what was wrong and what to say
    feedback = view.feedback.toPlainText()
    assert "Reply 2: Not yet" in feedback
    assert "never say where the colleague is" in feedback
    assert "Bjørn Ødegård from Aker hospital." in view.conversation.toPlainText()
    # When the last reply is given
    view.reply.setPlainText(
        "Let me read that back: your number is +47 22 89 41 17; Ola will call you tomorrow "
        "between 09:00 and 11:00."
    )
    view.send_button.click()
    # Then the result: a score by section, the model answers, and what to practise next
    result = training.result
    assert result is not None and not result.passed
    text = view.feedback.toPlainText()
    assert f"Score {result.score}/100" in text
    assert "Model: May I say who is calling?" in text
    assert "Practise next" in text
    assert not view.send_button.isEnabled()


def test_a_hold_check_back_is_timed(qtbot: Any) -> None:
    reply = "Thank you for holding. Would you like to keep holding, or shall I call you back?"
    _view, on_time = _play(qtbot, "check-back", [(reply, 31.0)])
    _view, late = _play(qtbot, "check-back", [(reply, 52.0)])
    assert on_time.result is not None and on_time.result.passed
    assert late.result is not None and not late.result.passed
    assert any(f.kind == "late" for f in late.scores[0].findings)


def test_the_scenarios_follow_the_chosen_language(qtbot: Any) -> None:
    view, training = _play(
        qtbot, "greeting", [("您好,北极光IT服务台,我是王丽,请问有什么可以帮您?", 3.0)], "zh"
    )
    assert training.result is not None and training.result.passed
    assert training.result.score == 100
    assert view.language.currentData() == "zh"
