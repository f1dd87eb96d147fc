"""The message form and the inbox on two real desks talking to the real server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from agentdesk.credentials import TokenVault
from tests.conftest import LiveServer
from tests.ui.conftest import until
from tests.ui.test_desk import _window
from ui.main_window import MainWindow
from ui.message_form import MessageForm
from ui.qt import QtCore

Run = Callable[[Coroutine[Any, Any, Any]], Any]


@pytest.fixture(autouse=True)
def quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTDESK_SOUND", "off")


async def _form(window: MainWindow) -> MessageForm:
    window.take_message()
    form = window.message_form
    assert form is not None
    await until(lambda: form.recipient.count() > 1, "the directory in the form")
    return form


def _fill(form: MessageForm) -> None:
    form.first_name.setText("Ingrid")
    form.last_name.setText("Berg")
    form.organisation.setText("Fjordkraft Drift AS")
    form.choose_recipient("agent.south")
    form.message.setPlainText("The VPN drops every hour. Please call back.")
    form.urgency.setCurrentIndex(form.urgency.findData("high"))
    form.day.setDate(QtCore.QDate.currentDate().addDays(1))
    form.start.setTime(QtCore.QTime(9, 0))
    form.end.setTime(QtCore.QTime(11, 0))


def test_a_message_is_filled_read_back_sent_and_called_back(
    sqlite_server: LiveServer, vault: TokenVault, run: Run
) -> None:
    async def scenario() -> None:
        sender = await _window(sqlite_server, vault)
        recipient = await _window(sqlite_server, vault, "agent_south")
        form = await _form(sender)
        # Given the agent fills the form, with a number that lacks its area code
        _fill(form)
        form.phone.setText("2233")
        form.send()
        # Then the number is refused by name, saying what is missing; nothing typed is lost
        assert form.errors["phone"].isVisibleTo(form)
        assert "country code" in form.errors["phone"].text()
        assert form.message.toPlainText() == "The VPN drops every hour. Please call back."
        assert "Still needed: caller's time zone, phone" in form.read_back.toPlainText()
        # When the full number is typed, it is formatted and the caller's zone proposed
        form.phone.setText("+47 55 12 34 56")
        assert form.phone_shown.text().startswith("+47 55 12 34 56")
        assert form.zone.currentText() == "Europe/Oslo"
        assert not form.errors["phone"].isVisibleTo(form)
        # Then the read-back has the key points, with the window in the caller's time
        text = form.read_back.toPlainText()
        for part in ("Ingrid Berg", "+47 55 12 34 56", "The VPN drops", "09:00", "11:00"):
            assert part in text
        # When it is sent
        form.send()
        await until(lambda: not form.isVisible(), "the form to close")
        # Then it reaches the recipient's desk: counted unread, in the inbox, announced
        inbox = recipient.inbox
        await until(lambda: inbox.unread == 1, "the message on the other desk", timeout=30)
        assert recipient.left_tabs.tabText(1) == "Inbox (1)"
        assert [n.title for n in recipient.notifier.given].count("New message") == 1
        message_id = recipient.inbox_view.ids()[0]
        assert "Ingrid Berg" in recipient.inbox_view.detail.toPlainText()
        # When the recipient acknowledges it, then calls back
        inbox.select(message_id)
        recipient.inbox_view.acknowledge_button.click()
        await until(lambda: inbox.unread == 0, "the acknowledgement")
        assert recipient.left_tabs.tabText(1) == "Inbox"
        inbox.select(message_id)
        inbox.called_back("New VPN profile sent; works.")
        await until(
            lambda: inbox.records.get(message_id, {}).get("state") == "called_back",
            "called back",
        )
        # Then the sender's desk learns what became of it
        store = sender.session.store

        def sender_sees() -> bool:
            sender.session.wake_sync()
            seen = store.message(message_id) or {}
            return seen.get("outcome") == "New VPN profile sent; works."

        await until(sender_sees, "the outcome on the sender's desk", timeout=30)

    run(scenario())


def test_a_known_caller_fills_the_form_and_a_recipient_elsewhere_sees_their_time(
    sqlite_server: LiveServer, vault: TokenVault, run: Run
) -> None:
    async def scenario() -> None:
        window = await _window(sqlite_server, vault)
        window.contacts.log_contact({"channel": "walk-in", "caller_name": "王 伟"})
        await until(lambda: window.contacts.current is not None, "the contact")
        form = await _form(window)
        assert (form.first_name.text(), form.last_name.text()) == ("伟", "王")
        assert form.links["contact_id"] == window.contacts.current["id"]
        form.phone.setText("+86 21 6321 1234")
        assert form.zone.currentText() == "Asia/Shanghai"
        form.agent_zone = "Europe/Oslo"
        form.update_preview()
        shown = form.window_elsewhere.text()
        # 09:00 in Shanghai is 02:00 in Oslo in winter
        assert "Your time:" in shown and "02:00–04:00" in shown
        # The reader picks the caller's language
        form.language.setCurrentIndex(form.language.findData("zh_CN"))
        _fill(form)
        form.first_name.setText("伟")
        form.last_name.setText("王")
        assert "请问这些都对吗" in form.read_back.toPlainText()
        # A weak phrase in the message is coached as everywhere else
        form.message.setPlainText("He will call you back ASAP.")
        assert [f.rule for f in form.coach.findings()] == ["asap"]
        form.done(0)  # (reject() would ask whether to discard what was typed)

    run(scenario())


def test_a_supervisor_sees_overdue_callbacks(
    sqlite_server: LiveServer, vault: TokenVault, run: Run
) -> None:
    async def scenario() -> None:
        sender = await _window(sqlite_server, vault)
        form = await _form(sender)
        _fill(form)
        form.phone.setText("+47 55 12 34 56")
        form.send()
        await until(lambda: not form.isVisible(), "the form to close")
        boss = await _window(sqlite_server, vault, "supervisor")
        assert boss.escalation_view is not None
        await until(lambda: boss.session.store.open_messages(), "the message on the desk")
        # When the window has passed (the desk's clock is moved on)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
        boss.escalations.clock = lambda: later
        boss.escalations.refresh()
        await until(lambda: boss.escalations.found, "the escalation")
        assert boss.escalations.found[0].kind == "callback"
        assert "Ingrid Berg" in boss.escalation_view.table.item(0, 1).text()
        assert boss.left_tabs.tabText(boss.left_tabs.indexOf(boss.escalation_view)).startswith(
            "Overdue ("
        )

    run(scenario())


def test_a_message_the_server_refuses_is_shown_with_why_and_sent_again_corrected(
    sqlite_server: LiveServer, vault: TokenVault, run: Run
) -> None:
    async def scenario() -> None:
        window = await _window(sqlite_server, vault)
        store = window.session.store
        # Given a message for a colleague the directory on this desk still listed, but who
        # has left (the server no longer knows them)
        day = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
        fields = {
            "first_name": "Ingrid",
            "last_name": "Berg",
            "organisation": "Fjordkraft Drift AS",
            "phone": "+47 55 12 34 56",
            "message": "Please call about the VPN.",
            "urgency": "normal",
            "for_user": "left.company",
            "for_name": "Former Colleague",
            "callback_after": f"{day}T09:00:00+00:00",
            "callback_before": f"{day}T11:00:00+00:00",
            "caller_timezone": "Europe/Oslo",
        }
        refused_id = "6f1f4d43-2c4c-4b8e-9d57-0a7b4c0c7d11"
        await window.session.runner.write(store.record_message, refused_id, "create", fields)
        window.session.wake_sync()
        await until(lambda: (store.message(refused_id) or {}).get("refused"), "the refusal")
        # When the agent looks at what they took
        inbox = window.inbox
        window.inbox_view.scope.setCurrentIndex(1)
        await until(lambda: refused_id in inbox.records, "the taken-by-me list")
        inbox.select(refused_id)
        # Then it says it was refused, and why, and offers to correct it
        await until(lambda: window.inbox_view.error.isVisibleTo(window), "the reason")
        assert "for_user" in window.inbox_view.error.text()
        row = window.inbox_view.ids().index(refused_id)
        assert window.inbox_view.table.item(row, 3).text() == "Refused"
        assert window.inbox_view.resend_button.isVisibleTo(window)
        # When it is corrected in the form and sent again
        window.inbox_view.resend_button.click()
        form = window.message_form
        assert form is not None
        await until(lambda: form.message.toPlainText() == "Please call about the VPN.", "refill")
        assert form.phone.text() == "+47 55 12 34 56"
        await until(lambda: form.recipient.count() > 1, "the directory")
        form.choose_recipient("agent.south")
        form.send()
        await until(lambda: not form.isVisible(), "the form to close")
        # Then the refused one is gone and the corrected one is delivered
        await until(lambda: store.message(refused_id) is None, "the refused one dropped")
        await until(lambda: store.outbox_counts().pending == 0, "the push")
        assert store.outbox_counts().rejected == 0

    run(scenario())


def test_a_callback_time_the_clocks_skip_is_refused_by_name(
    sqlite_server: LiveServer, vault: TokenVault, run: Run
) -> None:
    async def scenario() -> None:
        window = await _window(sqlite_server, vault)
        form = await _form(window)
        _fill(form)
        form.phone.setText("+47 55 12 34 56")
        # 02:30 on the last Sunday of March does not exist in Oslo
        form.day.setDate(QtCore.QDate(2027, 3, 28))
        form.start.setTime(QtCore.QTime(2, 30))
        form.end.setTime(QtCore.QTime(4, 0))
        form.send()
        assert "does not exist in Europe/Oslo" in form.errors["callback_after"].text()
        assert form.isVisible()
        form.done(0)

    run(scenario())
