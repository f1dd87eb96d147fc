"""The phrase coach in the desk's editors: underline as typed, the reason on hover, the fix."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from agentdesk.credentials import TokenVault
from tests.conftest import LiveServer
from tests.ui.conftest import server_contact, until
from tests.ui.test_desk import _window
from ui.coach_edit import CoachedEdit, tooltip
from ui.qt import QtGui, QtWidgets

Run = Callable[[Coroutine[Any, Any, Any]], Any]


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


def test_an_email_reply_is_coached_copied_and_recorded_as_sent(
    sqlite_server: LiveServer, vault: TokenVault, run: Run
) -> None:
    async def scenario() -> None:
        window = await _window(sqlite_server, vault)
        # Given an e-mail contact in hand (a phone call offers no reply box)
        window.contacts.log_contact({"channel": "email", "caller_name": "Ingrid Berg"})
        await until(lambda: window.contacts.current is not None, "the e-mail contact")
        pane = window.contact_pane
        assert pane.reply_box.isVisibleTo(window)
        # When the agent drafts a reply with a weak phrase
        pane.reply_text.setPlainText("Dear Ingrid, we will fix it ASAP.")
        coached = pane.reply_coach
        # Then the phrase is underlined, and the fix is offered
        assert _underlined(pane.reply_text) == [(28, 32)]
        finding = coached.finding_at(29)
        assert finding is not None and finding.rule == "asap"
        # And copying puts the reply on the clipboard for the mail client
        pane.reply_text.setPlainText("Dear Ingrid, the printer queue is cleared.")
        pane.reply_copy_button.click()
        assert QtWidgets.QApplication.clipboard().text() == pane.reply_text.toPlainText()
        # And recording it keeps it on the contact, marked as a reply, and on the server
        pane.reply_button.click()
        await until(lambda: (window.contacts.current or {}).get("notes"), "the reply")
        note = window.contacts.current["notes"][0]
        assert (note["kind"], note["text"]) == (
            "reply",
            "Dear Ingrid, the printer queue is cleared.",
        )
        assert pane.reply_text.toPlainText() == ""
        assert "to the customer" in pane.notes.item(0).text()
        contact_id = window.contacts.current["id"]
        await until(lambda: window.session.store.outbox_counts().pending == 0, "the push")
        assert server_contact(sqlite_server, contact_id)["notes"][0]["kind"] == "reply"
        # And an empty reply is refused by name, with nothing recorded
        pane.reply_text.setPlainText("  ")
        pane.reply_button.click()
        await until(lambda: pane.reply_error.isVisible(), "the refusal")
        assert "text: is empty" in pane.reply_error.text()

    run(scenario())
