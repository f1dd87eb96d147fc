"""The script panel: the guided call beside the contact in hand.

It shows the current step's lines (placeholders filled from the live contact), the tip, the
checklist, and the ways on (the next step and the branches). Checklist items tick themselves
when the matching thing happens on the desk (the answer, a note, a promise, a hold…). The
rule of three is tracked: how often the caller's name was used in notes. The panel follows the
customer's language; the agent can switch. What was shown, ticked and skipped goes on the
contact record with the wrap-up.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from agentdesk.domain.scripts import Library, ScriptRun, load_library, name_uses
from ui.qt import Qt, QtCore, QtGui, QtWidgets

LANGUAGE_NAMES = {"en": "English", "zh": "中文", "nb": "Norsk"}
#: How many times the caller's name should have been used by each step (start, middle, end).
NAME_TARGET = {"greeting": 0, "name": 1, "problem": 1, "solve": 2, "closing": 3}


#: Steps where the caller may leave a message: the panel offers the message form.
MESSAGE_STEPS = ("screening", "message")


class ScriptPanel(QtWidgets.QWidget):
    """Widgets only; :class:`ScriptController` fills them."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("script-panel")
        self.title = QtWidgets.QLabel("Call script")
        self.title.setProperty("role", "section")
        font = self.title.font()
        font.setBold(True)
        font.setPointSize(font.pointSize() + 1)
        self.title.setFont(font)
        self.language = QtWidgets.QComboBox()
        for code, name in LANGUAGE_NAMES.items():
            self.language.addItem(name, code)
        self.language.setToolTip("The script follows the customer's language; switch it here")
        self.names = QtWidgets.QLabel("")
        self.names.setToolTip(
            "Rule of three: use the caller's name at the beginning, the middle and the end"
        )
        self.lines = QtWidgets.QListWidget()
        self.lines.setObjectName("script-lines")
        self.lines.setWordWrap(True)
        self.lines.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.lines.setToolTip("Double-click a line to copy it (for e-mail and chat replies)")
        self.tip = QtWidgets.QLabel("")
        self.tip.setWordWrap(True)
        self.tip.setProperty("role", "subtle")
        self.checklist = QtWidgets.QListWidget()
        self.checklist.setObjectName("script-checklist")
        self.checklist.setWordWrap(True)
        self.checklist.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.branches = QtWidgets.QComboBox()
        self.branches.setObjectName("script-branches")
        self.go_button = QtWidgets.QPushButton("Go")
        self.next_button = QtWidgets.QPushButton("Next step ▸")
        self.next_button.setProperty("role", "primary")
        self.copy_button = QtWidgets.QPushButton("Copy line")
        # Screening and message steps lead straight to the message form.
        self.message_button = QtWidgets.QPushButton("Message form…")
        self.message_button.setToolTip("Take a complete message for a colleague (Ctrl+M)")
        self.message_button.hide()
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.names)
        top.addWidget(self.language)
        body = QtWidgets.QHBoxLayout()
        left = QtWidgets.QVBoxLayout()
        left.addWidget(self.lines, 1)
        left.addWidget(self.tip)
        right = QtWidgets.QVBoxLayout()
        right.addWidget(QtWidgets.QLabel("Checklist"), 0, Qt.AlignmentFlag.AlignTop)
        right.addWidget(self.checklist, 1)
        body.addLayout(left, 3)
        body.addLayout(right, 2)
        ways = QtWidgets.QHBoxLayout()
        ways.addWidget(self.copy_button)
        ways.addWidget(self.message_button)
        ways.addStretch(1)
        ways.addWidget(QtWidgets.QLabel("Or:"))
        ways.addWidget(self.branches, 2)
        ways.addWidget(self.go_button)
        ways.addWidget(self.next_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(top)
        layout.addLayout(body, 1)
        layout.addLayout(ways)
        self.show_run(None, [], 0, 0)

    def show_run(self, run: ScriptRun | None, lines: list[str], uses: int, target: int) -> None:
        enabled = run is not None
        for widget in (self.next_button, self.go_button, self.branches, self.copy_button):
            widget.setEnabled(enabled)
        self.lines.clear()
        self.checklist.clear()
        self.branches.clear()
        self.message_button.setVisible(run is not None and run.current in MESSAGE_STEPS)
        if run is None:
            self.title.setText("Call script")
            self.tip.setText("The script starts when a contact is answered or logged.")
            self.names.setText("")
            return
        step = run.step
        self.title.setText(f"{step.title}")
        for line in lines:
            self.lines.addItem(line)
        self.tip.setText(step.tip)
        done = run.ticked.get(step.id, set())
        for item in step.checklist:
            entry = QtWidgets.QListWidgetItem(item.text)
            entry.setData(Qt.ItemDataRole.UserRole, item.id)
            entry.setFlags(entry.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = Qt.CheckState.Checked if item.id in done else Qt.CheckState.Unchecked
            entry.setCheckState(checked)
            if item.auto:
                entry.setToolTip("Ticks itself when it happens on the desk")
            self.checklist.addItem(entry)
        for branch in step.branches:
            self.branches.addItem(branch.label, branch.to)
        self.branches.setEnabled(bool(step.branches))
        self.go_button.setEnabled(bool(step.branches))
        self.next_button.setEnabled(step.next is not None)
        self.next_button.setText("Next step ▸" if step.next else "End of script")
        self.names.setText(f"Name used {uses}×")
        behind = uses < target
        self.names.setStyleSheet("color: #b54708; font-weight: bold;" if behind else "")
        if behind:
            self.names.setToolTip("Use the caller's name now (rule of three: start, middle, end)")


class ScriptController(QtCore.QObject):
    """Keeps one script run per contact, fills the panel, and records adherence."""

    message_requested = QtCore.Signal()

    def __init__(
        self,
        panel: ScriptPanel,
        *,
        agent_full_name: str,
        organisation: str,
        library: Library | None = None,
    ) -> None:
        super().__init__(panel)
        self.panel = panel
        self.library = library or load_library()
        self.agent_full_name = agent_full_name
        self.organisation = organisation
        self.runs: dict[str, ScriptRun] = {}
        self.record: dict[str, Any] | None = None
        self.languages: dict[str, str] = {}
        panel.next_button.clicked.connect(self.next_step)
        panel.go_button.clicked.connect(self.take_branch)
        panel.copy_button.clicked.connect(self.copy_line)
        panel.message_button.clicked.connect(self.message_requested.emit)
        panel.lines.itemDoubleClicked.connect(lambda _item: self.copy_line())
        panel.checklist.itemChanged.connect(self._ticked)
        panel.language.currentIndexChanged.connect(self._language_chosen)

    @property
    def run(self) -> ScriptRun | None:
        return self.runs.get(str(self.record["id"])) if self.record else None

    def follow(self, record: dict[str, Any] | None, *, language: str | None = None) -> None:
        """The contact in hand changed (or changed state): start or continue its script."""
        self.record = record
        if record is None:
            self.refresh()
            return
        contact_id = str(record["id"])
        if language is not None:
            self.languages.setdefault(contact_id, language)
        if contact_id not in self.runs:
            script = self.library.get("call", self.languages.get(contact_id, "en"))
            if script is None:
                self.refresh()
                return
            self.runs[contact_id] = ScriptRun(script)
        self._happenings(record)
        self.refresh()

    def set_language(self, contact_id: str, language: str) -> None:
        """The customer's language became known: switch unless the agent chose already."""
        if contact_id in self.languages:
            return
        self.languages[contact_id] = language
        self._switch(contact_id, language)

    def _switch(self, contact_id: str, language: str) -> None:
        run = self.runs.get(contact_id)
        script = self.library.get("call", language)
        if run is None or script is None or script is run.script:
            self.refresh()
            return
        # Same shape in every language: carry on at the same step with the same ticks.
        switched = ScriptRun(
            script, current=run.current, path=list(run.path), ticked=run.ticked, events=run.events
        )
        self.runs[contact_id] = switched
        self.refresh()

    def _language_chosen(self) -> None:
        if self.record is None:
            return
        code = str(self.panel.language.currentData())
        contact_id = str(self.record["id"])
        self.languages[contact_id] = code
        self._switch(contact_id, code)

    def _happenings(self, record: dict[str, Any]) -> None:
        run = self.run
        if run is None:
            return
        if record.get("state") in ("answered", "ended"):
            run.happened("answered")
        if record.get("customer_id") or record.get("caller_name"):
            run.happened("named")
        events = {
            "note": bool(record.get("notes")),
            "promise": bool(record.get("promises")),
            "hold": bool(record.get("holds")),
            "resumed": any(h.get("how") == "resumed" for h in record.get("holds") or []),
            "transfer": bool(record.get("transfers")),
            "wrap_up": bool(record.get("wrap_up")),
        }
        for event, happened in events.items():
            if happened:
                run.happened(event)

    def context(self) -> dict[str, str]:
        record = self.record or {}
        promises = "; ".join(
            f"{p['text']} ({_when(p['due_at'])})" for p in record.get("promises") or []
        )
        first = self.agent_full_name.split()[0] if self.agent_full_name else ""
        return {
            "caller_name": str(record.get("caller_name") or ""),
            "agent_full_name": self.agent_full_name,
            "agent_first_name": first,
            "organisation": self.organisation,
            "promises": promises,
        }

    def refresh(self) -> None:
        run = self.run
        if run is None:
            self.panel.show_run(None, [], 0, 0)
            return
        record = self.record or {}
        texts = [str(n.get("text", "")) for n in record.get("notes") or []]
        uses = name_uses(texts, str(record.get("caller_name") or ""))
        target = NAME_TARGET.get(run.current, 0)
        self.panel.checklist.blockSignals(True)
        self.panel.show_run(run, run.lines(self.context()), uses, target)
        self.panel.checklist.blockSignals(False)
        index = self.panel.language.findData(run.script.language)
        self.panel.language.blockSignals(True)
        self.panel.language.setCurrentIndex(index)
        self.panel.language.blockSignals(False)

    def next_step(self) -> None:
        run = self.run
        if run is not None and run.advance() is not None:
            self.refresh()

    def take_branch(self) -> None:
        run = self.run
        target = self.panel.branches.currentData()
        if run is not None and target:
            run.go(str(target))
            self.refresh()

    def copy_line(self) -> None:
        item = self.panel.lines.currentItem() or self.panel.lines.item(0)
        if item is not None:
            QtGui.QGuiApplication.clipboard().setText(item.text())

    def _ticked(self, item: QtWidgets.QListWidgetItem) -> None:
        run = self.run
        if run is None:
            return
        done = item.checkState() == Qt.CheckState.Checked
        run.tick(str(item.data(Qt.ItemDataRole.UserRole)), done=done)

    def message_taken(self, contact_id: str) -> None:
        """The caller's message was taken (and read back) on the message form."""
        run = self.runs.get(contact_id)
        if run is not None:
            run.happened("message")
            self.refresh()

    def adherence(self, contact_id: str) -> dict[str, Any] | None:
        run = self.runs.get(contact_id)
        return run.adherence() if run is not None else None


def _when(value: str) -> str:
    moment = dt.datetime.fromisoformat(value).astimezone()
    return moment.strftime("%d %b %H:%M")
