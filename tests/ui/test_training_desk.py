"""Training on real desks against the real server: a supervisor assigns a scenario, the
trainee plays it and the attempt is kept and synced, the supervisor reviews the progress and
publishes a standard answer that reaches the trainee's desk."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from agentdesk.credentials import TokenVault
from tests.conftest import LiveServer
from tests.ui.conftest import until
from tests.ui.test_desk import _window
from ui.qt import QtWidgets
from ui.speech import Speaker
from ui.training import TrainingController, TrainingView

Run = Callable[[Coroutine[Any, Any, Any]], Any]

CHECK_BACK = "Thank you for holding. Would you like to keep holding, or shall I call you back?"
NEW_GREETING = (
    "Good afternoon, Northern Lights IT help desk, my name is Tom Berg. How may I help you today?"
)


@pytest.fixture(autouse=True)
def quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTDESK_SOUND", "off")


def test_assign_play_review_and_publish_across_two_desks(
    sqlite_server: LiveServer, vault: TokenVault, run: Run
) -> None:
    async def scenario() -> None:
        boss = await _window(sqlite_server, vault, "supervisor")
        tom = await _window(sqlite_server, vault, "trainee")
        # The trainee's desk opens on training; no contact panels
        assert tom.right.currentWidget() is tom.training_page
        assert not tom.contact_pane.isVisible()
        # Given the supervisor assigns the check-back scenario to the trainee
        desk = boss.training_desk
        await until(lambda: "trainee" in dict(desk.trainees), "the trainees from the directory")
        boss.open_training(boss.training_page.progress)
        desk.assign()
        dialog = desk.assign_dialog
        dialog.trainee.setCurrentIndex(dialog.trainee.findData("trainee"))
        dialog.language.setCurrentIndex(dialog.language.findData("en"))
        dialog.scenario.setCurrentIndex(dialog.scenario.findData("check-back"))
        dialog.note.setText("Mind the 30 seconds")
        dialog.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).click()
        await until(lambda: not dialog.isVisible(), "the assignment kept")
        # Then it reaches the trainee's desk, listed under "Assigned to you"
        assigned = tom.training_view.assigned
        await until(lambda: assigned.count() == 1, "the assignment on the trainee's desk")
        assert "Mind the 30 seconds" in assigned.item(0).text()
        # When the trainee plays it, checking back in time
        tom.training._play_assigned(assigned.item(0))
        assert tom.training.scenario is not None
        assert tom.training.scenario.id == "check-back"
        tom.training_view.reply.setPlainText(CHECK_BACK)
        tom.training_view.send_button.click()
        assert tom.training.result is not None and tom.training.result.passed
        # Then the attempt is saved on the desk, and the assignment is done
        await until(
            lambda: "saved on this desk" in tom.training_view.saved.text(), "the attempt kept"
        )
        await until(lambda: assigned.count() == 0, "the assignment done")
        # And the supervisor sees the trainee's progress: the attempt, its chart, done
        progress = boss.training_page.progress
        await until(lambda: desk.counts.get("trainee") == 1, "the attempt on the boss's desk")
        desk.show_trainee("trainee")
        await until(lambda: progress.attempts.rowCount() == 1, "the trainee's attempts shown")
        assert progress.attempts.item(0, 3).text() == "100"
        assert "Checking back on a caller on hold" in progress.assignments.text()
        assert "done" in progress.assignments.text()
        chart = progress.chart.progress
        assert chart is not None and chart.attempts == 1 and "hold" in chart.sections
        # When the supervisor reviews the attempt
        progress.attempts.selectRow(0)
        assert progress.review_button.isEnabled()
        desk.add_review(str(desk.attempts[0]["id"]), "Good: you offered a choice.")
        # Then the review reaches the trainee
        tom.open_training(tom.training_page.progress)
        await until(
            lambda: any(a.get("reviews") for a in tom.training_desk.attempts),
            "the review on the trainee's desk",
        )
        tom.training_page.progress.attempts.selectRow(0)
        assert "Good: you offered a choice." in tom.training_page.progress.detail.toPlainText()
        # When the supervisor publishes a weak standard answer, it is refused, text kept
        answers = boss.training_page.answers
        boss.open_training(answers)
        desk.choose_answer("greeting", "en", 0)
        answers.editor.setPlainText("Hello, what's up?")
        answers.publish_button.click()
        assert answers.error.isVisible() and "text" in answers.error.text()
        assert answers.editor.toPlainText() == "Hello, what's up?"
        # And a good one is published
        answers.editor.setPlainText(NEW_GREETING)
        answers.publish_button.click()
        await until(lambda: "Published" in answers.status.text(), "the answer published")
        # Then it reaches the trainee's desk as the model answer
        await until(
            lambda: any(a["text"] == NEW_GREETING for a in tom.training.answers),
            "the standard answer on the trainee's desk",
        )
        tom.training.choose("greeting", "en")
        tom.training.start()
        assert tom.training.scenario is not None
        assert tom.training.scenario.turns[0].model == NEW_GREETING

    run(scenario())


def test_the_callers_lines_are_spoken_where_an_engine_exists(qtbot: Any) -> None:
    # Qt's own test engine stands in for the platform's voice
    speaker = Speaker(engines=["mock"])
    view = TrainingView()
    qtbot.addWidget(view)
    training = TrainingController(view, speaker=speaker)
    assert view.speak.isEnabled() and view.speak.isChecked()
    training.choose("hold", "nb")
    training.start()
    assert training.scenario is not None
    assert speaker.spoken == [training.scenario.turns[0].caller]
    # Without an engine the lines are shown only, and the view says why
    silent = Speaker(engines=[])
    other = TrainingView()
    qtbot.addWidget(other)
    TrainingController(other, speaker=silent)
    assert not other.speak.isEnabled() and not other.speak.isChecked()
    assert "speech" in other.speak.toolTip()


def test_a_call_keeps_its_language_and_a_too_long_reply_stays_in_the_box(qtbot: Any) -> None:
    view = TrainingView()
    qtbot.addWidget(view)
    training = TrainingController(view, speaker=Speaker(engines=[]))
    training.choose("take-message", "en")
    training.start()
    # While the call runs, its language and scenario cannot change under it
    assert not view.language.isEnabled() and not view.scenarios.isEnabled()
    # A reply longer than any attempt keeps is not sent; it stays for the trainee to shorten
    long_reply = "May I say who is calling? " * 100
    view.reply.setPlainText(long_reply)
    view.send_button.click()
    assert training.replies == [] and view.reply.toPlainText() == long_reply
    assert "too long" in view.timer_label.text()
    for reply in ("May I say who is calling?", "Ola is not available.", "Thank you."):
        view.reply.setPlainText(reply)
        view.send_button.click()
    fields = training.attempt_fields()
    assert fields["language"] == "en" and fields["scenario"] == "take-message"
    assert fields["started_at"] <= fields["finished_at"]
    assert view.language.isEnabled()


def test_the_answer_editor_never_publishes_a_draft_to_another_turn(
    sqlite_server: LiveServer, vault: TokenVault, run: Run
) -> None:
    async def scenario() -> None:
        boss = await _window(sqlite_server, vault, "supervisor")
        desk, answers = boss.training_desk, boss.training_page.answers
        boss.open_training(answers)
        desk.choose_answer("greeting", "en", 0)
        answers.editor.setPlainText(NEW_GREETING)
        # When the supervisor looks at another scenario, then picks its turn
        desk.choose_answer("hold", "en", 0)
        hold = answers.editor.toPlainText()
        assert hold != NEW_GREETING and "hold" in answers.editing.text().lower()
        # And comes back: the greeting draft is still there
        desk.choose_answer("greeting", "en", 0)
        assert answers.editor.toPlainText() == NEW_GREETING
        # Publishing twice (an answer lost on the way, say) publishes one version
        answers.publish_button.click()
        await until(lambda: "Published" in answers.status.text(), "published")
        answers.status.setText("")
        desk.choose_answer("greeting", "en", 0)
        answers.editor.setPlainText(NEW_GREETING)
        answers.publish_button.click()
        await until(lambda: "Published" in answers.status.text(), "published again")
        with sqlite_server.http("supervisor") as http:
            found = [
                a
                for a in http.get("/api/v1/training/answers").json()
                if (a["scenario"], a["language"], a["turn"]) == ("greeting", "en", 0)
            ]
        assert [a["version"] for a in found] == [1]

    run(scenario())
