"""Training on a signed-in desk: attempts kept and synced, progress over time, assignments,
and the standard answers supervisors publish.

The Training page has three tabs: **Rehearse** (:mod:`ui.training`), **Progress** (a chart of
each section's scores over time and every attempt, with the supervisor's reviews) and
**Standard answers** (the model answer of each scenario turn; supervisors edit and publish
them to every desk). A supervisor's Progress tab shows any trainee and assigns scenarios.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from agentdesk.domain.errors import FieldError, ValidationFailed
from agentdesk.domain.rehearsal import PASS_MARK, SECTIONS, Scenario, ScenarioError
from agentdesk.domain.training import (
    Progress,
    apply_attempt_op,
    assignment_status,
    check_standard_answer,
    progress,
    scenario_library,
    with_answers,
)
from agentdesk.sync.client import ApiError, Offline, ServerTrouble
from agentdesk.wire import StandardAnswerIn
from ui.background import Background
from ui.coach_edit import CoachedEdit
from ui.desk_session import DeskSession
from ui.qt import Qt, QtCore, QtGui, QtWidgets
from ui.queue_panel import row_table
from ui.training import LANGUAGES, TrainingController, TrainingView

#: One colour per section in the chart and its legend.
SECTION_COLOURS = {
    "greeting": "#175cd3",
    "listening": "#7a5af8",
    "solution": "#039855",
    "empathy": "#dc6803",
    "hold": "#0e9384",
    "closing": "#c11574",
}
ATTEMPT_COLUMNS = ("When", "Scenario", "Language", "Score", "Result", "Reviews")
ANSWER_COLUMNS = ("Turn", "Caller", "Standard answer", "Published")
STATUS_TEXT = {"open": "to do", "overdue": "overdue", "done": "done", "cancelled": "cancelled"}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _when(value: str) -> str:
    moment = dt.datetime.fromisoformat(value).astimezone()
    return moment.strftime("%d %b %H:%M")


def _language_name(code: str) -> str:
    return dict(LANGUAGES).get(code, code)


def _scenarios(lang: str) -> list[Scenario]:
    try:
        return sorted(scenario_library(lang).values(), key=lambda s: s.title)
    except ScenarioError:
        return []


def _field_errors(error: BaseException) -> list[FieldError] | None:
    """The fields a refusal names (the desk's own check or the server's 422)."""
    if isinstance(error, ValidationFailed):
        return error.errors
    if isinstance(error, ApiError) and isinstance(error.detail, list):
        return [
            FieldError(str(d.get("field") or d.get("loc", ["", "?"])[-1]), str(d.get("msg", "")))
            for d in error.detail
            if isinstance(d, Mapping)
        ]
    if isinstance(error, ApiError) and error.status == 403:
        return [FieldError("role", "only a supervisor may do this")]
    return None


class ProgressChart(QtWidgets.QWidget):
    """Each section's score over the attempts, oldest on the left; the pass mark dashed."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("progress-chart")
        self.setMinimumHeight(220)
        self.progress: Progress | None = None

    def set_progress(self, seen: Progress | None) -> None:
        self.progress = seen
        self.update()

    def paintEvent(self, _event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text_colour = palette.color(QtGui.QPalette.ColorRole.WindowText)
        painter.fillRect(self.rect(), palette.color(QtGui.QPalette.ColorRole.Base))
        seen = self.progress
        if seen is None or not seen.points:
            painter.setPen(text_colour)
            painter.drawText(
                self.rect(), Qt.AlignmentFlag.AlignCenter, "No attempts yet: play a scenario"
            )
            return
        metrics = painter.fontMetrics()
        legend_h = metrics.height() + 8
        left, right = metrics.horizontalAdvance("100") + 12, 16
        top, bottom = legend_h + 8, metrics.height() + 10
        plot = QtCore.QRectF(left, top, self.width() - left - right, self.height() - top - bottom)
        times = sorted({when for when, _score in seen.points})
        x_of = {
            when: plot.left()
            + (plot.width() * i / max(1, len(times) - 1) if len(times) > 1 else plot.width() / 2)
            for i, when in enumerate(times)
        }

        def y_of(value: float) -> float:
            return plot.bottom() - plot.height() * value / 100

        grid = QtGui.QPen(palette.color(QtGui.QPalette.ColorRole.Mid), 1)
        for value in (0, 25, 50, 75, 100):
            painter.setPen(grid)
            painter.drawLine(
                QtCore.QPointF(plot.left(), y_of(value)), QtCore.QPointF(plot.right(), y_of(value))
            )
            painter.setPen(text_colour)
            painter.drawText(
                QtCore.QRectF(0, y_of(value) - metrics.height() / 2, left - 6, metrics.height()),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                str(value),
            )
        mark = QtGui.QPen(QtGui.QColor("#b42318"), 1, Qt.PenStyle.DashLine)
        painter.setPen(mark)
        painter.drawLine(
            QtCore.QPointF(plot.left(), y_of(PASS_MARK)),
            QtCore.QPointF(plot.right(), y_of(PASS_MARK)),
        )
        label = f"pass mark {PASS_MARK}"
        painter.drawText(
            QtCore.QPointF(
                plot.right() - metrics.horizontalAdvance(label) - 4, y_of(PASS_MARK) - 4
            ),
            label,
        )
        # Dates under the first and the last attempt (more would crowd the axis).
        painter.setPen(text_colour)
        for when in {times[0], times[-1]}:
            label = when.astimezone().strftime("%d %b")
            width = metrics.horizontalAdvance(label)
            x = min(max(x_of[when] - width / 2, plot.left()), plot.right() - width)
            painter.drawText(QtCore.QPointF(x, plot.bottom() + metrics.ascent() + 6), label)
        x = float(left)
        for name in SECTIONS:
            series = seen.sections.get(name)
            if not series:
                continue
            colour = QtGui.QColor(SECTION_COLOURS[name])
            painter.setPen(QtGui.QPen(colour, 2))
            points = [QtCore.QPointF(x_of[when], y_of(value)) for when, value in series]
            if len(points) > 1:
                painter.drawPolyline(points)
            painter.setBrush(colour)
            for point in points:
                painter.drawEllipse(point, 3.5, 3.5)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            label = f"{SECTIONS[name]} {seen.latest.get(name, '')}"
            painter.fillRect(QtCore.QRectF(x, 6 + metrics.height() / 2 - 4, 12, 8), colour)
            painter.setPen(text_colour)
            painter.drawText(QtCore.QPointF(x + 16, 6 + metrics.ascent()), label)
            x += 16 + metrics.horizontalAdvance(label) + 18
        painter.end()


class ProgressView(QtWidgets.QWidget):
    """A trainee's progress: the chart, a summary and every attempt."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("training-progress")
        self.trainee = QtWidgets.QComboBox()
        self.trainee.setObjectName("progress-trainee")
        self.trainee_label = QtWidgets.QLabel("Trainee")
        self.assign_button = QtWidgets.QPushButton("Assign a scenario…")
        self.review_button = QtWidgets.QPushButton("Review the attempt…")
        self.review_button.setEnabled(False)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.trainee_label)
        top.addWidget(self.trainee, 1)
        top.addWidget(self.assign_button)
        top.addWidget(self.review_button)
        self.summary = QtWidgets.QLabel("")
        self.summary.setObjectName("progress-summary")
        self.summary.setWordWrap(True)
        self.chart = ProgressChart()
        self.attempts = row_table("training-attempts", ATTEMPT_COLUMNS)
        self.assignments = QtWidgets.QLabel("")
        self.assignments.setObjectName("progress-assignments")
        self.assignments.setWordWrap(True)
        self.assignments.setTextFormat(Qt.TextFormat.RichText)
        self.detail = QtWidgets.QTextBrowser()
        self.detail.setObjectName("attempt-detail")
        lower = QtWidgets.QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.attempts)
        lower.addWidget(self.detail)
        lower.setSizes([520, 380])
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.chart, 2)
        layout.addWidget(self.assignments)
        layout.addWidget(lower, 3)

    def set_supervisor(self, supervisor: bool) -> None:
        for widget in (self.trainee, self.trainee_label, self.assign_button, self.review_button):
            widget.setVisible(supervisor)


class AnswersView(QtWidgets.QWidget):
    """The standard answer of each turn of a scenario; supervisors edit and publish them."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("standard-answers")
        self.language = QtWidgets.QComboBox()
        for code, label in LANGUAGES:
            self.language.addItem(label, code)
        self.scenario = QtWidgets.QComboBox()
        self.scenario.setObjectName("answers-scenario")
        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel("Scenario"))
        top.addWidget(self.scenario, 1)
        top.addWidget(self.language)
        self.hint = QtWidgets.QLabel(
            "The method: collect the hard questions agents meet, write the standard answers "
            "together, rehearse them, then publish: every desk shows the published answer as "
            "the model."
        )
        self.hint.setWordWrap(True)
        self.hint.setProperty("role", "subtle")
        self.table = row_table("answers-table", ANSWER_COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(
            2, QtWidgets.QHeaderView.ResizeMode.Stretch
        )
        self.table.setWordWrap(True)
        self.editor = QtWidgets.QPlainTextEdit()
        self.editor.setObjectName("answer-editor")
        self.editor.setFixedHeight(80)
        self.editor.setPlaceholderText("Choose a turn, then write the answer agents should give")
        self.coach = CoachedEdit(self.editor)
        self.editing = QtWidgets.QLabel("Choose a turn to edit its standard answer")
        self.editing.setObjectName("answer-editing")
        self.editing.setProperty("role", "subtle")
        self.publish_button = QtWidgets.QPushButton("Publish to every desk")
        self.publish_button.setProperty("role", "primary")
        self.publish_button.setEnabled(False)
        self.error = QtWidgets.QLabel("")
        self.error.setObjectName("answer-error")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.status = QtWidgets.QLabel("")
        self.status.setProperty("role", "subtle")
        editor_row = QtWidgets.QHBoxLayout()
        editor_row.addWidget(self.editor, 1)
        editor_row.addWidget(self.publish_button, 0, Qt.AlignmentFlag.AlignBottom)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.hint)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.editing)
        layout.addLayout(editor_row)
        layout.addWidget(self.error)
        layout.addWidget(self.status)

    def set_supervisor(self, supervisor: bool) -> None:
        self.editor.setVisible(supervisor)
        self.editing.setVisible(supervisor)
        self.publish_button.setVisible(supervisor)

    def show_errors(self, errors: Sequence[FieldError] | None) -> None:
        if not errors:
            self.error.hide()
            return
        self.error.setText("\n".join(f"{e.field}: {e.message}" for e in errors))
        self.error.show()


class AssignDialog(QtWidgets.QDialog):
    """Assign a scenario to a trainee: who, which scenario, which language, by when."""

    def __init__(self, trainees: Sequence[tuple[str, str]], parent: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Assign a scenario")
        self.setObjectName("assign-dialog")
        self.trainee = QtWidgets.QComboBox()
        for username, name in trainees:
            self.trainee.addItem(f"{name} ({username})", username)
        self.language = QtWidgets.QComboBox()
        for code, label in LANGUAGES:
            self.language.addItem(label, code)
        self.scenario = QtWidgets.QComboBox()
        self.due_on = QtWidgets.QCheckBox("Due by")
        self.due = QtWidgets.QDateEdit(QtCore.QDate.currentDate().addDays(7))
        self.due.setCalendarPopup(True)
        self.due.setEnabled(False)
        self.due_on.toggled.connect(self.due.setEnabled)
        self.note = QtWidgets.QLineEdit()
        self.note.setPlaceholderText("What to pay attention to (optional)")
        self.error = QtWidgets.QLabel("")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        due_row = QtWidgets.QHBoxLayout()
        due_row.addWidget(self.due_on)
        due_row.addWidget(self.due, 1)
        form = QtWidgets.QFormLayout()
        form.addRow("Trainee", self.trainee)
        form.addRow("Language", self.language)
        form.addRow("Scenario", self.scenario)
        form.addRow(due_row)
        form.addRow("Note", self.note)
        self.buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setText("Assign")
        self.buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.language.currentIndexChanged.connect(self._fill_scenarios)
        self._fill_scenarios()

    def _fill_scenarios(self) -> None:
        self.scenario.clear()
        for scenario in _scenarios(str(self.language.currentData())):
            self.scenario.addItem(scenario.title, scenario.id)

    def fields(self) -> dict[str, Any]:
        due = None
        if self.due_on.isChecked():
            picked = self.due.date()
            day = dt.date(picked.year(), picked.month(), picked.day())
            end = dt.datetime.combine(day, dt.time(23, 59)).astimezone()
            due = end.isoformat()
        return {
            "trainee": self.trainee.currentData() or "",
            "trainee_name": self.trainee.currentText().rsplit(" (", 1)[0],
            "scenario": self.scenario.currentData() or "",
            "language": self.language.currentData(),
            "due": due,
            "note": self.note.text(),
        }

    def show_errors(self, errors: Sequence[FieldError]) -> None:
        self.error.setText("\n".join(f"{e.field}: {e.message}" for e in errors))
        self.error.show()


class TrainingPage(QtWidgets.QTabWidget):
    """Rehearse, Progress and Standard answers, as tabs."""

    def __init__(self, rehearse: TrainingView) -> None:
        super().__init__()
        self.setObjectName("training-page")
        self.rehearse = rehearse
        self.progress = ProgressView()
        self.answers = AnswersView()
        self.addTab(rehearse, "Rehearse")
        self.addTab(self.progress, "Progress")
        self.addTab(self.answers, "Standard answers")


class TrainingDesk(QtCore.QObject):
    """Keeps attempts and assignments in the local store (synced like every record), fills
    the Progress tab, and publishes standard answers.

    Signals:
        answers_changed(): the published standard answers were (re)loaded.
    """

    answers_changed = QtCore.Signal()

    def __init__(
        self,
        page: TrainingPage,
        controller: TrainingController,
        session: DeskSession,
        background: Background,
    ) -> None:
        super().__init__(page)
        self.page = page
        self.controller = controller
        self.session = session
        self.background = background
        self.supervisor = session.user.role in ("supervisor", "admin")
        self.attempts: list[dict[str, Any]] = []
        self.assignments: list[dict[str, Any]] = []
        self.trainees: list[tuple[str, str]] = []
        self.published: list[dict[str, Any]] = []
        #: How many attempts each trainee has (a supervisor's desk).
        self.counts: dict[str, int] = {}
        #: The turn the editor holds (scenario, language, turn), and unpublished drafts.
        self._editing: tuple[str, str, int] | None = None
        self._drafts: dict[tuple[str, str, int], str] = {}
        self._publish_ids: dict[tuple[tuple[str, str, int], str], str] = {}
        view = page.progress
        view.set_supervisor(self.supervisor)
        page.answers.set_supervisor(self.supervisor)
        controller.finished.connect(self._keep_attempt)
        view.trainee.currentIndexChanged.connect(lambda _index: self.refresh())
        view.attempts.itemSelectionChanged.connect(self._show_attempt)
        view.assign_button.clicked.connect(self.assign)
        view.review_button.clicked.connect(self.review)
        answers = page.answers
        answers.language.currentIndexChanged.connect(self._fill_answer_scenarios)
        answers.scenario.currentIndexChanged.connect(self._show_answers)
        answers.table.itemSelectionChanged.connect(self._answer_chosen)
        answers.publish_button.clicked.connect(self.publish)
        self._fill_answer_scenarios()
        self.refresh()
        self.load_answers()
        if self.supervisor:
            self.background.run(self._load_trainees(), name="trainees", success=self._trainees)
        # Read the other languages' scenarios off the GUI thread, before anyone switches.
        self.background.run(
            asyncio.to_thread(lambda: [scenario_library(code) for code, _label in LANGUAGES]),
            name="scenarios",
            failure=lambda _error: None,  # a broken file is reported when it is chosen
        )

    @property
    def me(self) -> str:
        return self.session.user.username

    # --- attempts and assignments ---------------------------------------------------------

    def _keep_attempt(self, _result: Any) -> None:
        """A finished rehearsal is committed on this desk before it says saved, then synced."""
        fields = self.controller.attempt_fields()
        label = self.page.rehearse.saved
        self._write(
            self.session.store.record_attempt,
            str(uuid.uuid4()),
            "create",
            fields,
            kept=lambda: label.setText(
                "Attempt saved on this desk; it reaches your supervisor with the sync."
            ),
            refused=lambda errors: label.setText("Not saved: " + "; ".join(map(str, errors))),
        )

    def _write(
        self,
        record: Callable[..., dict[str, Any]],
        record_id: str,
        op: str,
        fields: dict[str, Any],
        *,
        kept: Callable[[], None],
        refused: Callable[[list[FieldError]], None],
    ) -> None:
        """One training record step, committed on this desk (off the GUI thread), then
        synced; a refusal names its fields, anything else is reported."""

        def done(_record: dict[str, Any]) -> None:
            kept()
            self.session.wake_sync()
            self.refresh()

        def failed(error: BaseException) -> None:
            errors = _field_errors(error)
            if errors is None:
                self.background.report(error)
            else:
                refused(errors)

        write = self.session.runner.write(record, record_id, op, fields)
        self.background.run(write, success=done, failure=failed)

    def refresh(self) -> None:
        """Reload attempts and assignments from the local store (off the GUI thread)."""
        store = self.session.store
        runner = self.session.runner
        # A supervisor's desk holds everyone's attempts: it reads the one trainee shown.
        shown = self._trainee_shown()
        mine = None if self.supervisor else self.me

        async def load() -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, int]]:
            attempts = await runner.read(store.attempts, shown) if shown else []
            assignments = await runner.read(store.assignments, mine)
            counts = await runner.read(store.attempt_counts) if self.supervisor else {}
            return attempts, assignments, counts

        self.background.run(load(), name="training-records", success=self._loaded)

    def _loaded(
        self, found: tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, int]]
    ) -> None:
        self.attempts, self.assignments, self.counts = found
        now = dt.datetime.now(dt.UTC)
        to_do = []
        for assignment in self.assignments:
            if assignment.get("trainee") != self.me:
                continue
            status = assignment_status(assignment, self.attempts, now)
            if status in ("open", "overdue"):
                due = f" · due {_when(assignment['due'])}" if assignment.get("due") else ""
                text = (
                    f"{assignment['title']} ({_language_name(assignment['language'])}){due}"
                    f" · from {assignment['assigned_by']}"
                    + (" · OVERDUE" if status == "overdue" else "")
                    + (f" — {assignment['note']}" if assignment.get("note") else "")
                )
                to_do.append((text, str(assignment["scenario"]), str(assignment["language"])))
        self.page.rehearse.show_assigned(to_do)
        self._fill_trainees()
        self._show_progress()

    async def _load_trainees(self) -> list[tuple[str, str]]:
        """Who can be assigned scenarios; the last list fetched serves offline."""
        store = self.session.store
        try:
            found = [(u.username, u.full_name) for u in await self.session.client.trainees()]
        except (Offline, ServerTrouble):
            cached = await self.session.runner.read(store.meta, "trainees")
            return [(str(u), str(n)) for u, n in json.loads(cached)] if cached else []
        await self.session.runner.write(store.set_meta, "trainees", json.dumps(found))
        return found

    def _trainees(self, found: list[tuple[str, str]]) -> None:
        self.trainees = found
        self._fill_trainees()

    def _fill_trainees(self) -> None:
        if not self.supervisor:
            return
        combo = self.page.progress.trainee
        known = dict(self.trainees)
        for username in self.counts:
            known.setdefault(username, "")
        chosen = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        for username, name in sorted(known.items(), key=lambda kv: kv[1] or kv[0]):
            count = self.counts.get(username, 0)
            combo.addItem(f"{name or username} ({username}) · {count} attempts", username)
        if chosen:
            combo.setCurrentIndex(max(0, combo.findData(chosen)))
        combo.blockSignals(False)
        if not chosen and combo.count():
            self.refresh()  # the first trainee's attempts

    def show_trainee(self, username: str) -> None:
        combo = self.page.progress.trainee
        combo.setCurrentIndex(combo.findData(username))

    def _trainee_shown(self) -> str:
        if not self.supervisor:
            return self.me
        return str(self.page.progress.trainee.currentData() or "")

    def _show_progress(self) -> None:
        view = self.page.progress
        who = self._trainee_shown()
        seen = progress(who, self.attempts)
        view.chart.set_progress(seen)
        if seen.attempts:
            weakest = seen.weakest
            view.summary.setText(
                f"{seen.attempts} attempts, {seen.passed} passed. Latest score by section: "
                + ", ".join(f"{SECTIONS[k]} {v}" for k, v in seen.latest.items())
                + (f". Practise next: {weakest}." if weakest else ". Every section passes.")
            )
        else:
            view.summary.setText("No attempts yet.")
        now = dt.datetime.now(dt.UTC)
        mine = [a for a in self.assignments if a.get("trainee") == who]
        refused = [a for a in self.assignments if a.get("refused")]
        lines = []
        if mine:
            lines.append(
                "<b>Assigned:</b> "
                + "; ".join(
                    f"{html.escape(a['title'])} ({html.escape(_language_name(a['language']))}): "
                    f"{STATUS_TEXT[assignment_status(a, self.attempts, now)]}"
                    for a in mine
                )
            )
        if refused:
            lines.append(
                "<b>Not accepted by the server:</b> "
                + "; ".join(
                    f"{html.escape(a['title'])} for {html.escape(str(a['trainee_name']))}"
                    for a in refused
                )
                + " (see the sync status for the reason)"
            )
        view.assignments.setText("<br>".join(lines))
        rows = [a for a in self.attempts if a.get("trainee") == who]
        table = view.attempts
        selected = self._selected_attempt()
        table.blockSignals(True)
        table.clearSelection()
        table.setRowCount(len(rows))
        for row, attempt in enumerate(rows):
            values = (
                _when(str(attempt["finished_at"])),
                str(attempt.get("title") or attempt["scenario"]),
                _language_name(str(attempt["language"])),
                str(attempt["score"]),
                ("passed" if attempt.get("passed") else "not yet")
                + (" · not sent yet" if attempt.get("unsent") else ""),
                str(len(attempt.get("reviews") or [])),
            )
            for column, value in enumerate(values):
                item = QtWidgets.QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, attempt["id"])
                table.setItem(row, column, item)
            if selected is not None and attempt["id"] == selected["id"]:
                table.selectRow(row)
        table.blockSignals(False)
        self._show_attempt()

    def _selected_attempt(self) -> dict[str, Any] | None:
        items = self.page.progress.attempts.selectedItems()
        if not items:
            return None
        attempt_id = items[0].data(Qt.ItemDataRole.UserRole)
        return next((a for a in self.attempts if a["id"] == attempt_id), None)

    def _show_attempt(self) -> None:
        attempt = self._selected_attempt()
        view = self.page.progress
        view.review_button.setEnabled(attempt is not None and self.supervisor)
        if attempt is None:
            view.detail.clear()
            return
        result = attempt.get("result") or {}
        parts = [
            f"<h3>{html.escape(str(attempt.get('title')))}: {attempt['score']}/100</h3>",
            "<table>"
            + "".join(
                f"<tr><td>{html.escape(SECTIONS.get(k, k))}</td><td><b>{v}</b></td></tr>"
                for k, v in (attempt.get("sections") or {}).items()
            )
            + "</table>",
        ]
        scored = list(result.get("turns") or [])
        for index, reply in enumerate(attempt.get("replies") or []):
            turn = scored[index] if index < len(scored) else {}
            missing = [f["reason"] for f in turn.get("findings", []) if f.get("kind") != "right"]
            parts.append(
                f"<p><b>Reply {index + 1}:</b> {html.escape(reply)}"
                + (f"<br><i>{html.escape('; '.join(missing))}</i>" if missing else "")
                + "</p>"
            )
        for review in attempt.get("reviews") or []:
            parts.append(
                f"<p><b>Review by {html.escape(review['by'])}</b> ({_when(review['at'])}): "
                f"{html.escape(review['text'])}</p>"
            )
        view.detail.setHtml("".join(parts))

    def assign(self) -> None:
        dialog = AssignDialog(self.trainees, self.page)
        shown = self._trainee_shown()
        if shown:
            dialog.trainee.setCurrentIndex(max(0, dialog.trainee.findData(shown)))
        ok = dialog.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        assignment_id = str(uuid.uuid4())  # one assignment per dialog, however often clicked

        def refused(errors: list[FieldError]) -> None:
            ok.setEnabled(True)
            dialog.show_errors(errors)

        def submit() -> None:
            ok.setEnabled(False)
            self._write(
                self.session.store.record_assignment,
                assignment_id,
                "create",
                dialog.fields(),
                kept=dialog.accept,
                refused=refused,
            )

        ok.clicked.connect(submit)
        self.assign_dialog = dialog
        dialog.open()

    def review(self) -> None:
        attempt = self._selected_attempt()
        if attempt is None:
            return
        prompt = "What should the trainee keep or change?"
        text = ""
        while True:
            text, ok = QtWidgets.QInputDialog.getMultiLineText(
                self.page, "Review the attempt", prompt, text
            )
            if not ok:
                return
            try:
                apply_attempt_op(attempt, "review", {"text": text}, self.session.actor, now=_now())
            except ValidationFailed as failed:
                prompt = "\n".join(str(e) for e in failed.errors) + "\n\n" + prompt
                continue
            self.add_review(str(attempt["id"]), text)
            return

    def add_review(self, attempt_id: str, text: str) -> None:
        summary = self.page.progress.summary
        self._write(
            self.session.store.record_attempt,
            attempt_id,
            "review",
            {"text": text},
            kept=lambda: None,
            refused=lambda errors: summary.setText(
                "Review not kept: " + "; ".join(map(str, errors))
            ),
        )

    # --- standard answers -----------------------------------------------------------------

    def load_answers(self) -> None:
        """Fetch the published answers (the last ones fetched serve offline)."""
        self.background.run(self._fetch_answers(), name="answers", success=self._answers)

    async def _fetch_answers(self) -> list[dict[str, Any]]:
        store = self.session.store
        try:
            found = [a.model_dump() for a in await self.session.client.standard_answers()]
        except (Offline, ServerTrouble):
            cached = await self.session.runner.read(store.meta, "answers")
            return list(json.loads(cached)) if cached else []
        await self.session.runner.write(store.set_meta, "answers", json.dumps(found))
        return found

    def _answers(self, found: list[dict[str, Any]]) -> None:
        self.published = found
        self.controller.answers = found
        self._show_answers()
        self.answers_changed.emit()

    def _fill_answer_scenarios(self) -> None:
        view = self.page.answers
        lang = str(view.language.currentData())
        chosen = view.scenario.currentData()
        view.scenario.blockSignals(True)
        view.scenario.clear()
        for scenario in _scenarios(lang):
            view.scenario.addItem(scenario.title, scenario.id)
        if chosen:
            view.scenario.setCurrentIndex(max(0, view.scenario.findData(chosen)))
        view.scenario.blockSignals(False)
        view.coach.set_language(lang)
        self._show_answers()

    def _current_scenario(self) -> Scenario | None:
        view = self.page.answers
        lang = str(view.language.currentData())
        found = scenario_library(lang).get(str(view.scenario.currentData()))
        return with_answers(found, self.published) if found is not None else None

    def _show_answers(self) -> None:
        view = self.page.answers
        scenario = self._current_scenario()
        view.table.setRowCount(0)
        if scenario is None:
            return
        lang = str(view.language.currentData())
        published = {
            int(a["turn"]): a
            for a in self.published
            if a["scenario"] == scenario.id and a["language"] == lang
        }
        view.table.setRowCount(len(scenario.turns))
        for index, turn in enumerate(scenario.turns):
            done = published.get(index)
            values = (
                str(index + 1),
                turn.caller,
                turn.model,
                f"v{done['version']} · {done['published_by']} · {_when(done['published_at'])}"
                if done
                else "the scenario's own",
            )
            for column, value in enumerate(values):
                item = QtWidgets.QTableWidgetItem(value)
                item.setToolTip(value)
                view.table.setItem(index, column, item)
        view.table.resizeRowsToContents()
        editing = self._editing
        if editing is not None and editing[:2] == (scenario.id, lang):
            view.table.selectRow(editing[2])

    def _answer_chosen(self) -> None:
        """The editor follows the chosen turn; what was typed for another turn is kept as
        that turn's draft, never published to this one."""
        view = self.page.answers
        rows = {i.row() for i in view.table.selectedItems()}
        scenario = self._current_scenario()
        if not rows or scenario is None:
            return
        key = (scenario.id, str(view.language.currentData()), min(rows))
        if key == self._editing:
            return
        if self._editing is not None:
            self._drafts[self._editing] = view.editor.toPlainText()
        self._editing = key
        view.editor.setPlainText(self._drafts.get(key, scenario.turns[key[2]].model))
        view.editing.setText(
            f"Editing: {scenario.title} ({_language_name(key[1])}), turn {key[2] + 1}"
        )
        view.show_errors(None)
        view.publish_button.setEnabled(self.supervisor)

    def choose_answer(self, scenario_id: str, lang: str, turn: int) -> None:
        view = self.page.answers
        view.language.setCurrentIndex(view.language.findData(lang))
        view.scenario.setCurrentIndex(view.scenario.findData(scenario_id))
        view.table.selectRow(turn)

    def publish(self) -> None:
        """Check the answer here first (it must pass its turn), then publish it; the text
        stays in the editor until the server has it."""
        view = self.page.answers
        if self._editing is None:
            return
        scenario_id, lang, turn = self._editing
        text = view.editor.toPlainText()
        # The same text sent again (after an answer lost on the way) is published once.
        publish_id = self._publish_ids.setdefault((self._editing, text), str(uuid.uuid4()))
        fields = {
            "id": publish_id,
            "scenario": scenario_id,
            "language": lang,
            "turn": turn,
            "text": text,
        }
        try:
            check_standard_answer(fields)
        except ValidationFailed as failed:
            view.show_errors(failed.errors)
            return
        view.show_errors(None)
        view.publish_button.setEnabled(False)
        view.status.setText("Publishing…")

        editing = self._editing

        def done(_published: Any) -> None:
            self._drafts.pop(editing, None)
            view.status.setText("Published: every desk now shows this answer.")
            view.publish_button.setEnabled(True)
            self.load_answers()

        def refused(error: BaseException) -> None:
            view.publish_button.setEnabled(True)
            view.status.setText("")
            errors = _field_errors(error)
            if errors is None:
                errors = [FieldError("server", f"not published, the text is kept: {error}")]
            view.show_errors(errors)

        self.background.run(
            self.session.client.publish_answer(StandardAnswerIn.model_validate(fields)),
            success=done,
            failure=refused,
        )
