"""Training: a trainee plays a scenario against a simulated caller and gets scored.

The caller's lines come one at a time; the trainee types each reply against a visible timer
(a hold turn has its check-back deadline). After each reply: what was right, what was missing,
which words to avoid were used and what to say instead. At the end: the score by section,
the model answer beside the trainee's, and what to practise next. The scoring is the core's
(:mod:`agentdesk.domain.rehearsal`); no real customer data is ever used.
"""

from __future__ import annotations

import datetime as dt
import html
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from agentdesk.domain.coach import language_of, load_coach
from agentdesk.domain.rehearsal import (
    SECTIONS,
    Result,
    Scenario,
    ScenarioError,
    TurnScore,
    score,
    score_turn,
)
from agentdesk.domain.training import MAX_REPLY, scenario_library, with_answers
from ui.coach_edit import CoachedEdit
from ui.qt import Qt, QtCore, QtGui, QtWidgets
from ui.speech import Speaker

LANGUAGES = (("en", "English"), ("zh", "中文"), ("nb", "Norsk"))
KIND_MARK = {"right": "✓", "missing": "✗", "order": "↕", "avoid": "⚠", "late": "⏱", "call": "•"}


class TrainingView(QtWidgets.QWidget):
    """Widgets only; the controller plays the scenario."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("training")
        self.language = QtWidgets.QComboBox()
        for code, label in LANGUAGES:
            self.language.addItem(label, code)
        self.scenarios = QtWidgets.QComboBox()
        self.scenarios.setObjectName("training-scenarios")
        self.start_button = QtWidgets.QPushButton("Start")
        self.start_button.setProperty("role", "primary")
        self.speak = QtWidgets.QCheckBox("Speak the caller's lines")
        self.speak.setObjectName("training-speak")
        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel("Scenario"))
        top.addWidget(self.scenarios, 1)
        top.addWidget(self.language)
        top.addWidget(self.speak)
        top.addWidget(self.start_button)
        #: Scenarios a supervisor assigned: double-click (or Enter) plays one.
        self.assigned = QtWidgets.QListWidget()
        self.assigned.setObjectName("training-assigned")
        self.assigned_label = QtWidgets.QLabel("Assigned to you")
        self.assigned_label.setProperty("role", "subtle")
        self.saved = QtWidgets.QLabel("")
        self.saved.setObjectName("training-saved")
        self.saved.setProperty("role", "subtle")
        self.conversation = QtWidgets.QTextBrowser()
        self.conversation.setObjectName("training-conversation")
        self.timer_label = QtWidgets.QLabel("")
        self.timer_label.setObjectName("training-timer")
        self.reply = QtWidgets.QPlainTextEdit()
        self.reply.setObjectName("training-reply")
        self.reply.setPlaceholderText("Your reply to the caller (Ctrl+Enter sends)")
        self.reply.setFixedHeight(70)
        self.reply.setTabChangesFocus(True)
        self.coach = CoachedEdit(self.reply)
        self.send_button = QtWidgets.QPushButton("Reply")
        self.send_button.setProperty("role", "primary")
        reply_row = QtWidgets.QHBoxLayout()
        reply_row.addWidget(self.reply, 1)
        reply_row.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        self.feedback = QtWidgets.QTextBrowser()
        self.feedback.setObjectName("training-feedback")
        split = QtWidgets.QSplitter(Qt.Orientation.Horizontal)
        left = QtWidgets.QWidget()
        left_layout = QtWidgets.QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.conversation, 1)
        left_layout.addWidget(self.timer_label)
        left_layout.addLayout(reply_row)
        split.addWidget(left)
        split.addWidget(self.feedback)
        split.setSizes([600, 400])
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.assigned_label)
        layout.addWidget(self.assigned)
        layout.addWidget(split, 1)
        layout.addWidget(self.saved)
        self.show_assigned([])

    def show_assigned(self, rows: Sequence[tuple[str, str, str]]) -> None:
        """Assignments still to do: (text, scenario id, language) each."""
        self.assigned.clear()
        for text, scenario_id, lang in rows:
            item = QtWidgets.QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, (scenario_id, lang))
            self.assigned.addItem(item)
        self.assigned.setVisible(bool(rows))
        self.assigned_label.setVisible(bool(rows))
        if rows:
            shown = min(3, len(rows))
            row_height = max(self.assigned.sizeHintForRow(0), self.fontMetrics().height() + 4)
            self.assigned.setFixedHeight(shown * row_height + 2 * self.assigned.frameWidth() + 4)


class TrainingController(QtCore.QObject):
    """Plays one scenario at a time and shows the scorer's reasons."""

    finished = QtCore.Signal(object)  # the Result

    def __init__(
        self,
        view: TrainingView,
        *,
        clock: Callable[[], float] = time.monotonic,
        speaker: Speaker | None = None,
    ) -> None:
        super().__init__(view)
        self.view = view
        self.clock = clock
        self.speaker = speaker if speaker is not None else Speaker(parent=self)
        view.speak.setEnabled(self.speaker.available)
        view.speak.setChecked(self.speaker.available)
        view.speak.setToolTip(
            f"Spoken by the {self.speaker.engine} voice"
            if self.speaker.available
            else self.speaker.why_not
        )
        #: Published standard answers: the model answers shown over the scenarios' own.
        self.answers: Sequence[Mapping[str, Any]] = []
        self.started_at: dt.datetime | None = None
        self.finished_at: dt.datetime | None = None
        self.scenario: Scenario | None = None
        self.turn = 0
        self.replies: list[str] = []
        self.seconds: list[float | None] = []
        self.scores: list[TurnScore] = []
        self.result: Result | None = None
        self._asked_at = 0.0
        self._ticker = QtCore.QTimer(self)
        self._ticker.setInterval(500)
        self._ticker.timeout.connect(self._tick)
        self.library: dict[str, list[Scenario]] = {}
        view.language.currentIndexChanged.connect(self._load)
        view.start_button.clicked.connect(self.start)
        view.send_button.clicked.connect(self.send)
        view.assigned.itemActivated.connect(self._play_assigned)
        send = QtGui.QShortcut(QtGui.QKeySequence("Ctrl+Return"), view.reply)
        send.activated.connect(self.send)
        self._load()

    @property
    def lang(self) -> str:
        """The language chosen in the view (for the next scenario started)."""
        return str(self.view.language.currentData())

    @property
    def playing_lang(self) -> str:
        """The language of the scenario being played."""
        assert self.scenario is not None
        return language_of(self.scenario.language)

    def _playing(self, playing: bool) -> None:
        """While a call runs, its scenario and language stay as they are."""
        self.view.language.setEnabled(not playing)
        self.view.scenarios.setEnabled(not playing)

    def _voice_hint(self) -> None:
        """Speaking is offered for the chosen language only if a voice speaks it."""
        speak = self.view.speak
        if not self.speaker.available:
            return
        voice = self.speaker.locale_for(self.lang)
        speak.setEnabled(voice is not None)
        speak.setToolTip(
            f"Spoken by the {self.speaker.engine} voice ({voice})"
            if voice
            else "No voice on this computer speaks this language; the lines are shown only."
        )

    def _load(self) -> None:
        try:
            scenarios = self.library.get(self.lang) or sorted(
                scenario_library(self.lang).values(), key=lambda s: s.id
            )
        except ScenarioError as exc:
            self.view.feedback.setPlainText(f"The scenarios cannot be read: {exc}")
            scenarios = []
        self.library[self.lang] = scenarios
        chosen = self.view.scenarios.currentData()
        self.view.scenarios.clear()
        for scenario in scenarios:
            self.view.scenarios.addItem(scenario.title, scenario.id)
        if chosen:
            self.view.scenarios.setCurrentIndex(max(0, self.view.scenarios.findData(chosen)))
        self.view.coach.set_language(self.lang)
        self._voice_hint()

    def choose(self, scenario_id: str, lang: str = "en") -> None:
        self.view.language.setCurrentIndex(self.view.language.findData(lang))
        self.view.scenarios.setCurrentIndex(self.view.scenarios.findData(scenario_id))

    def _play_assigned(self, item: QtWidgets.QListWidgetItem) -> None:
        scenario_id, lang = item.data(Qt.ItemDataRole.UserRole)
        self.choose(scenario_id, lang)
        self.start()

    def start(self) -> None:
        scenario_id = self.view.scenarios.currentData()
        found = [s for s in self.library.get(self.lang, []) if s.id == scenario_id]
        if not found:
            return
        self.scenario = with_answers(found[0], self.answers)
        self.started_at = dt.datetime.now(dt.UTC)
        self.finished_at = None
        self.view.saved.setText("")
        self._playing(True)
        self.turn = 0
        self.replies, self.seconds, self.scores = [], [], []
        self.result = None
        self.view.feedback.setHtml(
            f"<h3>{html.escape(self.scenario.title)}</h3><p>Answer the caller as you would on "
            "a real call. Each reply is scored as you send it.</p>"
        )
        self.view.reply.setEnabled(True)
        self.view.send_button.setEnabled(True)
        self._ask()

    def _ask(self) -> None:
        assert self.scenario is not None
        self._asked_at = self.clock()
        self._ticker.start()
        self._tick()
        self._render()
        self.view.reply.setFocus()
        if self.view.speak.isChecked():
            self.speaker.say(self.scenario.turns[self.turn].caller, self.playing_lang)

    def _tick(self) -> None:
        if self.scenario is None or self.turn >= len(self.scenario.turns):
            self.view.timer_label.setText("")
            return
        waited = self.clock() - self._asked_at
        turn = self.scenario.turns[self.turn]
        if turn.check_back_s is not None:
            left = turn.check_back_s - waited
            text = (
                f"Check back within {round(turn.check_back_s)} s: {max(0, round(left))} s left"
                if left > 0
                else f"Overdue by {round(-left)} s: check back now"
            )
        else:
            text = f"Time on this reply {int(waited) // 60}:{int(waited) % 60:02d}"
        self.view.timer_label.setText(text)

    def send(self) -> None:
        scenario = self.scenario
        if scenario is None or self.turn >= len(scenario.turns):
            return
        reply = self.view.reply.toPlainText().strip()
        if not reply:
            return
        if len(reply) > MAX_REPLY:
            # Kept in the box: the trainee shortens it and sends again.
            self.view.timer_label.setText(
                f"Your reply is too long: at most {MAX_REPLY} characters, it has {len(reply)}"
            )
            return
        waited = self.clock() - self._asked_at
        turn = scenario.turns[self.turn]
        scored = score_turn(
            turn, reply, load_coach(self.playing_lang), index=self.turn, seconds=waited
        )
        self.replies.append(reply)
        self.seconds.append(waited)
        self.scores.append(scored)
        self.view.reply.clear()
        self.turn += 1
        self._show_turn(scored)
        if self.turn < len(scenario.turns):
            self._ask()
            return
        self._ticker.stop()
        self.view.timer_label.setText("")
        self.view.reply.setEnabled(False)
        self.view.send_button.setEnabled(False)
        self._playing(False)
        self.finished_at = dt.datetime.now(dt.UTC)
        self.result = score(scenario, self.replies, seconds=self.seconds)
        self._render()
        self._show_result(self.result)
        self.finished.emit(self.result)

    def attempt_fields(self) -> dict[str, Any]:
        """The played scenario as the desk keeps it (the store scores it again)."""
        assert self.scenario is not None and self.started_at is not None
        return {
            "scenario": self.scenario.id,
            "language": self.playing_lang,
            "replies": list(self.replies),
            "seconds": [round(s, 1) if s is not None else None for s in self.seconds],
            "started_at": self.started_at.isoformat(),
            "finished_at": (self.finished_at or dt.datetime.now(dt.UTC)).isoformat(),
        }

    def _render(self) -> None:
        scenario = self.scenario
        if scenario is None:
            return
        rows = []
        for index, turn in enumerate(scenario.turns):
            if index > self.turn:
                break
            if index < len(self.replies) or index == self.turn:
                rows.append(f"<p><b>Caller:</b> {html.escape(turn.caller)}</p>")
            if index < len(self.replies):
                said = html.escape(self.replies[index])
                rows.append(f"<p style='margin-left: 24px'><b>You:</b> {said}</p>")
        self.view.conversation.setHtml("".join(rows))

    def _show_turn(self, scored: TurnScore) -> None:
        verdict = "Right" if scored.passed else "Not yet"
        items = "".join(
            f"<li>{KIND_MARK.get(f.kind, '•')} {html.escape(f.reason)}"
            + (f" — <i>{html.escape(f.suggestion)}</i>" if f.suggestion else "")
            + "</li>"
            for f in scored.findings
        )
        self.view.feedback.setHtml(
            f"<h3>Reply {scored.index + 1}: {verdict} ({scored.score}/100)</h3><ul>{items}</ul>"
        )

    def _show_result(self, result: Result) -> None:
        assert self.scenario is not None
        sections = "".join(
            f"<tr><td>{html.escape(SECTIONS[name])}</td><td><b>{value}</b></td></tr>"
            for name, value in result.sections.items()
        )
        answers = "".join(
            f"<p><b>Caller:</b> {html.escape(turn.caller)}<br>"
            f"<b>You:</b> {html.escape(self.replies[i])}<br>"
            f"<b>Model:</b> {html.escape(turn.model)}</p>"
            for i, turn in enumerate(self.scenario.turns)
        )
        calls = "".join(f"<li>{html.escape(f.reason)}</li>" for f in result.call_findings)
        practise = ", ".join(html.escape(p) for p in result.practise) or "nothing: well done"
        self.view.feedback.setHtml(
            f"<h2>Score {result.score}/100 — {'passed' if result.passed else 'practise again'}</h2>"
            f"<table>{sections}</table>"
            + (f"<p>Over the whole call:</p><ul>{calls}</ul>" if calls else "")
            + f"<p><b>Practise next:</b> {practise}</p><h3>Your answers and the model</h3>{answers}"
        )
