"""The phrase coach in the desk's editors: underline as typed, the reason on hover, the fix."""

from __future__ import annotations

from typing import Any

from ui.coach_edit import CoachedEdit, tooltip
from ui.qt import QtGui, QtWidgets


def _underlined(editor: QtWidgets.QPlainTextEdit) -> list[tuple[int, int]]:
    """Character ranges the highlighter drew with a wavy underline."""
    spans = []
    block = editor.document().begin()
    while block.isValid():
        for fmt in block.layout().formats():
            style = fmt.format.underlineStyle()
            if style == QtGui.QTextCharFormat.UnderlineStyle.WaveUnderline:
                spans.append(
                    (block.position() + fmt.start, block.position() + fmt.start + fmt.length)
                )
        block = block.next()
    return spans


def test_a_weak_phrase_is_underlined_as_typed_and_the_fix_replaces_it(qtbot: Any) -> None:
    # Given the notes editor with the coach on it
    editor = QtWidgets.QPlainTextEdit()
    qtbot.addWidget(editor)
    coached = CoachedEdit(editor, "en")
    # When the agent types a weak phrase
    qtbot.keyClicks(editor, "Hold on, checking the VPN. Thank you for holding.")
    # Then exactly the weak words are underlined, and the correct phrasing is left alone
    assert _underlined(editor) == [(0, 7)]
    finding = coached.finding_at(3)
    assert finding is not None and finding.rule == "hold-on"
    assert "Please hold." in tooltip(finding)
    # And the one-click fix replaces it, as one undoable edit
    coached.fix(finding)
    assert editor.toPlainText() == "Please hold, checking the VPN. Thank you for holding."
    assert _underlined(editor) == []
    editor.undo()
    assert editor.toPlainText().startswith("Hold on,")


def test_the_coach_follows_the_customers_language(qtbot: Any) -> None:
    editor = QtWidgets.QPlainTextEdit()
    qtbot.addWidget(editor)
    coached = CoachedEdit(editor, "en")
    editor.setPlainText("请等一下,你的电脑马上好。")
    assert coached.findings() == []  # English rules know no Chinese
    coached.set_language("zh_CN")
    assert [f.rule for f in coached.findings()] == ["hold-on", "ni"]
    assert len(_underlined(editor)) == 2
    coached.set_language("nb")
    editor.setPlainText("Vent litt, jeg vet ikke.")
    assert [f.text for f in coached.findings()] == ["Vent litt", "jeg vet ikke"]
