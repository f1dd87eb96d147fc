"""The phrase coach in the editors: weak phrasing is underlined as it is typed, the reason and
a better way show on hover, and the right-click menu offers the one-click fix."""

from __future__ import annotations

import logging

from agentdesk.domain.coach import Coach, CoachRulesError, Finding, apply_fix, load_coach
from ui.qt import Qt, QtCore, QtGui, QtWidgets

log = logging.getLogger(__name__)

UNDERLINE = {"warning": "#d92d20", "info": "#2e90fa"}
_COACHES: dict[str, Coach | None] = {}


def coach_for(language: str) -> Coach | None:
    """The coach for a sheet's language (``zh_CN`` → Chinese, ``nb``/``nn`` → Norwegian, else
    English); None, with a log line, when its rule file cannot be used."""
    lang = "zh" if language.startswith("zh") else "nb" if language in ("nb", "nn", "no") else "en"
    if lang not in _COACHES:
        try:
            _COACHES[lang] = load_coach(lang)
        except CoachRulesError as exc:
            log.error("phrase coach off for %s: %s", lang, exc)
            _COACHES[lang] = None
    return _COACHES[lang]


class CoachHighlighter(QtGui.QSyntaxHighlighter):
    """Underlines the coach's findings in a text document, block by block."""

    def __init__(self, document: QtGui.QTextDocument, coach: Coach | None) -> None:
        super().__init__(document)
        self.coach = coach

    def set_coach(self, coach: Coach | None) -> None:
        self.coach = coach
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        if self.coach is None:
            return
        for finding in self.coach.findings(text):
            style = QtGui.QTextCharFormat()
            style.setUnderlineStyle(QtGui.QTextCharFormat.UnderlineStyle.WaveUnderline)
            style.setUnderlineColor(QtGui.QColor(UNDERLINE.get(finding.severity, "#d92d20")))
            self.setFormat(finding.start, finding.end - finding.start, style)


class CoachedEdit(QtCore.QObject):
    """Puts the coach on a :class:`QPlainTextEdit`: underline, hover, and the fix.

    Signals:
        time_requested(): the agent chose to give a concrete date and time instead of a
            vague one ("ASAP", "soon").
    """

    time_requested = QtCore.Signal()

    def __init__(self, editor: QtWidgets.QPlainTextEdit, language: str = "en") -> None:
        super().__init__(editor)
        self.editor = editor
        self.highlighter = CoachHighlighter(editor.document(), coach_for(language))
        editor.viewport().installEventFilter(self)
        editor.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        editor.customContextMenuRequested.connect(self._menu)

    def set_language(self, language: str) -> None:
        coach = coach_for(language)
        if coach is not self.highlighter.coach:
            self.highlighter.set_coach(coach)

    def findings(self) -> list[Finding]:
        """Findings in the whole text, with offsets into ``toPlainText()``."""
        coach = self.highlighter.coach
        return coach.findings(self.editor.toPlainText()) if coach else []

    def finding_at(self, position: int) -> Finding | None:
        return next((f for f in self.findings() if f.start <= position < f.end), None)

    def fix(self, finding: Finding) -> None:
        """Replace the finding's words with its fix, as one undoable edit."""
        text = self.editor.toPlainText()
        fixed = apply_fix(text, finding)
        if fixed == text or finding.replacement is None:
            return
        cursor = QtGui.QTextCursor(self.editor.document())
        cursor.setPosition(finding.start)
        cursor.setPosition(finding.end, QtGui.QTextCursor.MoveMode.KeepAnchor)
        replacement = fixed[finding.start : len(fixed) - (len(text) - finding.end)]
        cursor.insertText(replacement)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.ToolTip and isinstance(event, QtGui.QHelpEvent):
            position = self.editor.cursorForPosition(event.pos()).position()
            finding = self.finding_at(position)
            if finding is not None:
                QtWidgets.QToolTip.showText(event.globalPos(), tooltip(finding), self.editor)
                return True
        return super().eventFilter(watched, event)

    def _menu(self, point: QtCore.QPoint) -> None:
        menu = self.editor.createStandardContextMenu()
        finding = self.finding_at(self.editor.cursorForPosition(point).position())
        if finding is not None:
            added: list[QtGui.QAction] = []
            hint = QtGui.QAction(f"Say instead: {finding.suggestion}", menu)
            hint.setEnabled(False)
            added.append(hint)
            if finding.replacement is not None:
                action = QtGui.QAction(f"Replace with “{finding.replacement}”", menu)
                action.triggered.connect(lambda: self.fix(finding))
                added.append(action)
            if finding.action == "set-time":
                pick = QtGui.QAction("Set a date and time…", menu)
                pick.triggered.connect(self.time_requested.emit)
                added.append(pick)
            separator = QtGui.QAction(menu)
            separator.setSeparator(True)
            added.append(separator)
            existing = menu.actions()
            if existing:
                menu.insertActions(existing[0], added)
            else:
                menu.addActions(added)
        menu.exec(self.editor.viewport().mapToGlobal(point))
        menu.deleteLater()


def tooltip(finding: Finding) -> str:
    text = f"<b>{finding.reason}</b><br>Say instead: {finding.suggestion}"
    if finding.replacement is not None:
        text += "<br><i>Right-click to replace it.</i>"
    if finding.action == "set-time":
        text += "<br><i>Give the date and time in the promise's “By” field.</i>"
    return text
