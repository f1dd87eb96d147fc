"""Incoming contacts on the desk: the panel, the screen pop, and the contact record."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest

from agentdesk.credentials import TokenVault
from agentdesk.domain.contacts import WaitingContact
from agentdesk.domain.customers import format_phone
from tests.conftest import LiveServer
from tests.ui.conftest import add_customers, oslo, ring, server_contact, until
from tests.ui.test_desk import _window
from ui.queue_panel import QueueView

Run = Callable[[Coroutine[Any, Any, Any]], Any]
Json = dict[str, Any]


@pytest.fixture(autouse=True)
def quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTDESK_SOUND", "off")


# --- the panel, by the clock ----------------------------------------------------------------


def _waiting(cid: str, tier: str, offered: float, channel: str = "phone") -> WaitingContact:
    return WaitingContact(
        id=cid, channel=channel, tier=tier, offered_at=offered, caller=f"caller {cid}"
    )


def test_the_panel_lists_tier_a_first_and_colours_late_answers(qtbot: Any) -> None:
    # Given two tier B calls that came first and two tier A calls, and an e-mail
    view = QueueView()
    qtbot.addWidget(view)
    from agentdesk.domain.contacts import queue_order

    contacts = [
        _waiting("b-early", "B", 0.0),
        _waiting("b-late", "B", 8.0),
        _waiting("a-late", "A", 9.0),
        _waiting("a-early", "A", 4.0),
        _waiting("mail", "A", 1.0, channel="email"),
    ]
    # When the panel shows them at t = 10 s
    view.show_contacts(queue_order(contacts), now=10.0)
    # Then tier A comes first, in order of arrival, then tier B
    assert view.ids() == ["mail", "a-early", "a-late", "b-early", "b-late"]
    assert view.summary.text() == "5 waiting · 3 tier A"
    # And rings set the colour: ring 2 (5–10 s) amber, past ring 3 red, e-mail never late
    assert view.urgency_of("a-late") == "on time"  # 1 s: first ring
    assert view.urgency_of("a-early") == "due"  # 6 s: second ring
    assert view.urgency_of("b-early") == "due"  # 10 s: third ring, still acceptable
    view.tick(16.0)
    assert view.urgency_of("b-early") == "late"  # 16 s: fourth ring
    assert view.urgency_of("mail") == "on time"
    assert view.table.item(3, 4).text() == "4"
    assert view.table.item(3, 3).text() == "0:16"


# --- screen pop ---------------------------------------------------------------------------


def test_a_known_caller_pops_their_sheet_and_the_call_is_wrapped_up_on_the_server(
    sqlite_server: LiveServer,
    vault: TokenVault,
    run: Run,
    pbx: httpx.Client,
    customer_factory: Callable[..., Json],
) -> None:
    number = oslo()
    sheet = customer_factory(
        name="Bjørn Ødegård", tier="A", phones=[{"label": "office", "number": number}]
    )
    add_customers(sqlite_server, [sheet])

    async def scenario() -> None:
        window = await _window(sqlite_server, vault)
        # Given a call from the customer, written the way Norwegian exchanges send it
        call = ring(pbx, "0047" + number[3:])
        # Then it is announced and waits on the panel with the customer's name and tier
        await until(lambda: window.queue_view.ids() == [call["id"]], "the call on the panel")
        assert window.queue_view.table.item(0, 1).text() == "Bjørn Ødegård"
        assert window.queue_view.table.item(0, 0).text().strip() == "A"
        await until(lambda: window.notifier.given, "the notification")
        notice = window.notifier.given[-1]
        assert "Bjørn Ødegård" in notice.text and "Tier A" in notice.text
        assert notice.sound == "off"

        # When the agent answers: the sheet pops, and the call leaves the panel
        window.queue_view.answer_button.click()
        await until(lambda: window.sheet.customer_id == sheet["id"], "the screen pop")
        assert window.contacts.current is not None
        assert window.contacts.current["state"] == "answered"
        assert window.contact_pane.caller.text() == "Bjørn Ødegård"
        await until(lambda: window.queue_view.ids() == [], "the panel to empty")

        # And notes, a promise and the wrap-up are recorded
        pane = window.contact_pane
        pane.note_text.setPlainText("Skriveren i 2. etasje stopper")
        pane.note_button.click()
        await until(lambda: pane.notes.count() == 1, "the note")
        pane.promise_text.setText("Tekniker bytter valsen")
        pane.promise_button.click()
        await until(lambda: (window.contacts.current or {}).get("promises"), "the promise")
        pane.category.setCurrentIndex(pane.category.findData("printing"))
        pane.outcome.setCurrentIndex(pane.outcome.findData("follow-up"))
        pane.wrap_button.click()
        await until(lambda: window.contacts.current is None, "the wrap-up")

        # Then the server holds the whole contact, with the desk's times
        contact_id = call["id"]
        await until(lambda: window.session.store.outbox_counts().pending == 0, "the push")
        record = server_contact(sqlite_server, contact_id)
        assert record["customer_id"] == sheet["id"]
        assert record["state"] == "ended"
        assert record["owner_name"] == "Agent.North"
        offered = dt.datetime.fromisoformat(record["offered_at"])
        answered = dt.datetime.fromisoformat(record["answered_at"])
        ended = dt.datetime.fromisoformat(record["ended_at"])
        assert offered <= answered <= ended
        assert record["speed_of_answer_s"] == (answered - offered).total_seconds()
        assert [n["text"] for n in record["notes"]] == ["Skriveren i 2. etasje stopper"]
        assert record["promises"][0]["text"] == "Tekniker bytter valsen"
        assert record["wrap_up"]["category"] == "printing"
        assert record["wrap_up"]["outcome"] == "follow-up"
        # And the sheet's history shows it
        await until(lambda: window.history_view.visible_ids() == [contact_id], "the history")

    run(scenario())


def test_a_number_several_customers_share_offers_a_pick_list(
    sqlite_server: LiveServer,
    vault: TokenVault,
    run: Run,
    pbx: httpx.Client,
    customer_factory: Callable[..., Json],
) -> None:
    switchboard = oslo()
    giulia = customer_factory(
        name="Giulia Rossi", tier="A", phones=[{"label": "switchboard", "number": switchboard}]
    )
    paolo = customer_factory(
        name="Paolo Moretti", phones=[{"label": "switchboard", "number": switchboard}]
    )
    add_customers(sqlite_server, [giulia, paolo])

    async def scenario() -> None:
        window = await _window(sqlite_server, vault)
        call = ring(pbx, switchboard)
        # The shared number is served at the highest tier among its customers
        assert call["tier"] == "A" and call["customer_id"] is None
        await until(lambda: window.queue_view.ids() == [call["id"]], "the call on the panel")
        assert "2 possible customers" in window.queue_view.table.item(0, 1).text()

        window.queue.answer_selected()
        pane = window.contact_pane
        await until(lambda: pane.candidates.count() == 2, "the pick list")
        assert pane.pick_box.isVisible()
        names = sorted(pane.candidates.item(i).text().split(" · ")[0] for i in range(2))
        assert names == ["Giulia Rossi", "Paolo Moretti"]
        assert window.right.currentWidget() is window.empty  # nobody's sheet in view yet

        # When the agent picks Paolo, his sheet opens and the contact is his
        row = next(i for i in range(2) if pane.candidates.item(i).text().startswith("Paolo"))
        pane.candidates.setCurrentRow(row)
        pane.pick_button.click()
        await until(lambda: window.sheet.customer_id == paolo["id"], "Paolo's sheet")
        assert (window.contacts.current or {}).get("customer_id") == paolo["id"]
        await until(lambda: window.session.store.outbox_counts().pending == 0, "the push")
        record = server_contact(sqlite_server, call["id"])
        assert (record["customer_id"], record["caller_name"]) == (paolo["id"], "Paolo Moretti")
        assert record["tier"] == "B"  # now that the caller is known

    run(scenario())


def test_an_unknown_caller_gets_a_new_sheet_with_the_number_filled_in(
    sqlite_server: LiveServer, vault: TokenVault, run: Run, pbx: httpx.Client
) -> None:
    async def scenario() -> None:
        window = await _window(sqlite_server, vault)
        number = oslo()
        call = ring(pbx, number)
        await until(lambda: window.queue_view.ids() == [call["id"]], "the call on the panel")

        window.queue.answer_selected()
        await until(lambda: window.sheet.creating, "the quick-create sheet")
        phones = window.sheet_view.phones.values()
        assert phones == [{"label": "office", "number": format_phone(number)}]
        assert "Unknown caller" in window.contact_pane.pick_box.title()

        # When the agent types the caller's name and saves, the contact becomes theirs
        window.sheet_view.name.setText("Åse Bråten")
        window.sheet_view.name.textEdited.emit("Åse Bråten")
        window.sheet.save()
        await until(lambda: not window.sheet.creating, "the save")
        created = window.sheet.customer_id
        await until(
            lambda: (window.contacts.current or {}).get("customer_id") == created, "the link"
        )
        await until(lambda: window.session.store.outbox_counts().pending == 0, "the push")
        record = server_contact(sqlite_server, call["id"])
        assert (record["customer_id"], record["caller_name"]) == (created, "Åse Bråten")

    run(scenario())


def test_a_call_the_phone_system_says_this_agent_picked_up_pops_on_their_desk(
    sqlite_server: LiveServer,
    vault: TokenVault,
    run: Run,
    pbx: httpx.Client,
    customer_factory: Callable[..., Json],
) -> None:
    number = oslo()
    sheet = customer_factory(name="Eirik Næss", phones=[{"label": "office", "number": number}])
    add_customers(sqlite_server, [sheet])

    async def scenario() -> None:
        window = await _window(sqlite_server, vault)
        call = ring(pbx, number)
        await until(lambda: window.queue_view.ids() == [call["id"]], "the call on the panel")
        # When the agent picks up the handset and the phone system says so
        answered = pbx.post(
            "/api/v1/telephony/events",
            json={"event": "answered", "call_id": call["call_id"], "agent": "agent.north"},
        )
        assert answered.status_code == 200, answered.text
        # Then the desk pops the sheet by itself (straight from the server's event), and the
        # call is in hand once the pull has stored it
        await until(lambda: window.sheet.customer_id == sheet["id"], "the screen pop")
        await until(lambda: window.contacts.in_hand(call["id"]), "the call in hand")
        assert window.sheet.customer_id == sheet["id"]

    run(scenario())


def test_changes_arriving_faster_than_the_store_answers_still_redraw_the_panel(
    sqlite_server: LiveServer, vault: TokenVault, run: Run, pbx: httpx.Client
) -> None:
    async def scenario() -> None:
        window = await _window(sqlite_server, vault)
        calls = [ring(pbx, oslo()) for _ in range(3)]
        ids = {c["id"] for c in calls}
        await until(lambda: set(window.queue_view.ids()) == ids, "the calls on the panel")
        await window.session.engine.stop()
        store = window.session.store
        view = window.queue_view
        reads: list[tuple[str, ...]] = []
        draws: list[int] = []
        read, draw = store.contacts_in_state, view.show_contacts

        def counted_read(*states: str) -> list[dict[str, Any]]:
            reads.append(states)
            time.sleep(0.05)  # a busy store: 50 ms a read
            return read(*states)

        def counted_draw(order: list[WaitingContact], now: float) -> None:
            draws.append(len(order))
            draw(order, now)

        store.contacts_in_state = counted_read  # type: ignore[method-assign]
        view.show_contacts = counted_draw  # type: ignore[method-assign]
        try:
            # When a change arrives every 10 ms for half a second
            for _ in range(50):
                window.queue.refresh()
                await asyncio.sleep(0.01)
            during = len(draws)
            await until(lambda: len(draws) > during, "the last redraw")
        finally:
            del store.contacts_in_state
            del view.show_contacts
        # Then the panel was redrawn meanwhile, and every read was drawn (none thrown away)
        assert during >= 3
        assert len(reads) <= len(draws) + 1
        assert set(window.queue_view.ids()) == ids

    run(scenario())


def test_the_sheet_pops_from_the_servers_event_before_the_call_is_pulled(
    sqlite_server: LiveServer,
    vault: TokenVault,
    run: Run,
    pbx: httpx.Client,
    customer_factory: Callable[..., Json],
) -> None:
    number = oslo()
    sheet = customer_factory(name="Sigrid Holm", phones=[{"label": "office", "number": number}])
    neighbour = customer_factory(name="Eilif Holm")
    add_customers(sqlite_server, [sheet, neighbour])

    async def scenario() -> None:
        window = await _window(sqlite_server, vault)
        session = window.session
        me = session.user.id
        opened: list[str] = []
        window.sheet.opened.connect(opened.append)
        await until(lambda: window.contacts._known_open is not None, "the open calls checked")
        # Given a desk that hears the server's events but pulls nothing for now
        await session.engine.stop()
        call = ring(pbx, number)
        answered = pbx.post(
            "/api/v1/telephony/events",
            json={"event": "answered", "call_id": call["call_id"], "agent": "agent.north"},
        )
        assert answered.status_code == 200, answered.text
        # Then the caller's sheet pops from the event alone; the call is not stored yet
        await until(lambda: window.sheet.customer_id == sheet["id"], "the screen pop")
        assert window.contacts.current is None
        assert session.store.contact(call["id"]) is None
        # And once the pull stores the call, it is in hand, without the sheet loading again
        session.engine.start()
        await until(lambda: window.contacts.in_hand(call["id"]), "the call in hand")
        await asyncio.sleep(0.2)
        assert opened == [sheet["id"]]

        # Not popped from an event: another agent's call, or a customer this desk lacks
        window.contacts.take(None)
        other = {**answered.json()["contact"], "id": "other-call", "customer_id": neighbour["id"]}
        assert other["owner_id"] == me
        session.contact_heard.emit({**other, "owner_id": "someone-else"})
        session.contact_heard.emit({**other, "customer_id": "not-on-this-desk"})
        await asyncio.sleep(0.3)
        assert opened == [sheet["id"]]
        assert window.sheet_view.save_state.text() == ""

    run(scenario())


def test_an_email_is_logged_by_hand_for_the_open_customer(
    sqlite_server: LiveServer,
    vault: TokenVault,
    run: Run,
    customer_factory: Callable[..., Json],
) -> None:
    sheet = customer_factory(name="Liv Grønli", tier="A")
    add_customers(sqlite_server, [sheet])

    async def scenario() -> None:
        window = await _window(sqlite_server, vault)
        window.open_customer(str(sheet["id"]))
        await until(lambda: window.sheet.customer_id == sheet["id"], "the sheet")
        window.log_contact()
        dialog = window._log_dialog
        assert dialog.uses_customer()
        dialog.channel.setCurrentIndex(dialog.channel.findData("email"))
        dialog._accept()
        await until(lambda: window.contacts.current is not None, "the logged contact")
        current = window.contacts.current or {}
        assert (current["channel"], current["customer_id"], current["tier"]) == (
            "email",
            sheet["id"],
            "A",
        )
        await until(lambda: window.session.store.outbox_counts().pending == 0, "the push")
        assert server_contact(sqlite_server, current["id"])["caller_name"] == "Liv Grønli"

    run(scenario())


def test_wrap_up_without_an_outcome_names_the_missing_fields_and_keeps_the_notes(
    sqlite_server: LiveServer, vault: TokenVault, run: Run, pbx: httpx.Client
) -> None:
    async def scenario() -> None:
        window = await _window(sqlite_server, vault)
        call = ring(pbx, oslo())
        await until(lambda: window.queue_view.ids() == [call["id"]], "the call on the panel")
        window.queue.answer_selected()
        await until(lambda: window.contacts.current is not None, "the answer")
        pane = window.contact_pane
        pane.note_text.setPlainText("   ")
        pane.note_button.click()
        await until(lambda: pane.note_error.isVisible(), "the note refusal")
        assert "text: is empty" in pane.note_error.text()
        pane.promise_text.setText("Ring tilbake snarest")
        pane.promise_button.click()
        await until(lambda: pane.promise_error.isVisible(), "the promise refusal")
        assert "snarest" in pane.promise_error.text()
        assert pane.promise_text.text() == "Ring tilbake snarest"  # nothing typed is lost
        pane.outcome.setCurrentIndex(pane.outcome.findData("escalated"))
        pane.wrap_button.click()
        await until(lambda: pane.wrap_error.isVisible(), "the wrap-up refusal")
        assert "category: choose one of" in pane.wrap_error.text()
        assert "handed to: name the person or team" in pane.wrap_error.text()
        assert window.contacts.current is not None  # still in hand

    run(scenario())


def test_a_promise_reminds_its_maker_once_when_it_comes_due(
    sqlite_server: LiveServer, vault: TokenVault, run: Run
) -> None:
    async def scenario() -> None:
        window = await _window(sqlite_server, vault)
        # Given a walk-in the agent promised something to, due tomorrow at 10:00
        window.contacts.log_contact({"channel": "walk-in", "caller_name": "Håkon Løvås"})
        await until(lambda: window.contacts.current is not None, "the walk-in")
        pane = window.contact_pane
        pane.promise_text.setText("Ny bærbar PC er klar til henting")
        pane.promise_button.click()
        await until(lambda: (window.contacts.current or {}).get("promises"), "the promise")
        due = dt.datetime.fromisoformat(window.contacts.current["promises"][0]["due_at"])
        # When the reminder check runs before and after the due time
        window.contacts.check_reminders()
        await asyncio.sleep(0.3)
        assert not [n for n in window.notifier.given if n.title == "Promise due"]
        window.contacts.clock = lambda: due.timestamp() + 1
        window.contacts.check_reminders()
        await until(
            lambda: [n for n in window.notifier.given if n.title == "Promise due"], "a reminder"
        )
        window.contacts.check_reminders()
        await asyncio.sleep(0.3)
        # Then it reminded once, with what was promised
        reminders = [n for n in window.notifier.given if n.title == "Promise due"]
        assert len(reminders) == 1
        assert reminders[0].text.startswith("Ny bærbar PC er klar til henting")

    run(scenario())
