"""Several calls at once on the desk: hold with a reason, check back, resume in order, and
hand a call to a colleague's desk through the real server."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest

from agentdesk.credentials import TokenVault
from agentdesk.domain.hold import CHECK_BACK_LINE, HOLD_REASONS
from tests.conftest import LiveServer
from tests.ui.conftest import CLEANUPS, oslo, ring, server_contact, until
from tests.ui.test_desk import _close, _window
from ui.desk_session import SignIn, sign_in
from ui.main_window import MainWindow
from ui.qt import QtWidgets

Run = Callable[[Coroutine[Any, Any, Any]], Any]
Json = dict[str, Any]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTDESK_SOUND", "off")


def _fake_clock(window: MainWindow) -> FakeClock:
    clock = FakeClock()
    window.calls.board.clock = clock
    window.calls.timers.clock = clock
    return clock


async def _answer(window: MainWindow, call: Json) -> None:
    await until(lambda: call["id"] in window.queue_view.ids(), "the call on the panel")
    window.queue.answer_requested.emit(window.queue.records[call["id"]])
    await until(lambda: (window.contacts.current or {}).get("id") == call["id"], "the call in hand")


def test_calls_are_held_with_a_reason_checked_back_and_resumed_in_order(
    sqlite_server: LiveServer, vault: TokenVault, run: Run, pbx: httpx.Client
) -> None:
    async def scenario() -> None:
        window = await _window(sqlite_server, vault)
        clock = _fake_clock(window)
        first, second = ring(pbx, oslo()), ring(pbx, oslo())
        await _answer(window, first)

        # When the agent puts the first caller on hold, choosing the words
        reasons = [a.data() for a in window.contact_pane.hold_menu.actions()]
        assert reasons == list(HOLD_REASONS)
        window.calls.hold("check")
        assert window.contacts.current is None
        assert window.hold_view.ids() == [first["id"]]
        assert HOLD_REASONS["check"] in window.statusBar().currentMessage()

        # And answers the second call: it greets and holds, and the first stays first in line
        await _answer(window, second)
        window.calls.hold("second-call")
        assert window.hold_view.ids() == [first["id"], second["id"]]
        assert window.hold_view.state_of(first["id"]) == "next"

        # Then at the check-back interval the prompt shows, and the row flashes
        clock.now += 30
        window.calls.timers.refresh()
        assert window.hold_view.prompt.isVisible()
        assert CHECK_BACK_LINE in window.hold_view.prompt.text()
        assert window.hold_view.state_of(first["id"]) == "prompt"
        assert [n.title for n in window.notifier.given][-1] == "Check back on the caller on hold"
        # Left alone, it escalates at the next interval, loudly
        clock.now += 30
        window.calls.timers.refresh()
        assert window.hold_view.state_of(first["id"]) == "escalated"
        assert window.notifier.given[-1].loud

        # When the agent confirms the check-back, the timer starts again from now
        window.calls.check_back(first["id"])
        assert window.hold_view.state_of(first["id"]) == "next"
        clock.now += 29
        window.calls.timers.refresh()
        assert window.hold_view.state_of(first["id"]) == "next"

        # Resuming the second caller first asks; declining keeps both on hold
        asked: list[tuple[str, str]] = []
        window.calls.confirm_out_of_order = lambda a, b: bool(asked.append((a, b)))
        window.calls.resume(second["id"])
        assert len(asked) == 1 and window.hold_view.ids() == [first["id"], second["id"]]
        # Resuming the first in line needs no question, and thanks the caller
        window.calls.resume()
        await until(
            lambda: (window.contacts.current or {}).get("id") == first["id"], "the first caller"
        )
        assert "Thank you for holding" in window.statusBar().currentMessage()
        assert window.hold_view.ids() == [second["id"]]

        # Then the server has the hold segment with its check-back
        await until(lambda: window.session.store.outbox_counts().pending == 0, "the push")
        holds = server_contact(sqlite_server, first["id"])["holds"]
        assert [(h["reason"], h["how"], len(h["check_backs"])) for h in holds] == [
            ("check", "resumed", 1)
        ]
        assert holds[0]["check_backs"][0]["late_s"] == 30.0

    run(scenario())


def test_a_warm_transfer_reaches_the_colleague_who_accepts_it(
    sqlite_server: LiveServer, vault: TokenVault, run: Run, pbx: httpx.Client
) -> None:
    async def scenario() -> None:
        window = await _window(sqlite_server, vault)
        # A colleague of the same department has the desk open too
        account = sqlite_server.accounts["engineer"]
        colleague_session = await sign_in(
            SignIn(sqlite_server.url, account.username, account.password, remember=False), vault
        )
        colleague = MainWindow(colleague_session)
        colleague.background.show_dialogs = False
        colleague.show()
        CLEANUPS.append(lambda: _close(colleague))
        colleague_session.start()

        call = ring(pbx, oslo())
        await _answer(window, call)
        window.calls.transfer(
            {
                "to_user": "engineer",
                "to_team": "",
                "to_name": "Engineer",
                "mode": "warm",
                "announcement": "Kari Nordmann: the plotter in room 204 is offline; you set it up",
            }
        )
        # The caller holds while the colleague decides
        await until(lambda: window.hold_view.ids() == [call["id"]], "the caller on hold")

        # The colleague's desk shows the announcement
        await until(lambda: colleague.calls.offer_dialogs, "the offer on the colleague's desk")
        offer = colleague.calls.offer_dialogs[0]
        announcement = offer.findChild(QtWidgets.QLabel, "announcement")
        assert announcement is not None and "plotter in room 204" in announcement.text()
        offer.accept_button.click()
        await until(
            lambda: (colleague.contacts.current or {}).get("id") == call["id"],
            "the call in the colleague's hand",
        )
        # The first desk hears that the colleague took it: the hold ends as transferred
        await until(lambda: window.hold_view.ids() == [], "the hold to end")
        await until(
            lambda: (
                window.session.store.outbox_counts().pending == 0
                and colleague_session.store.outbox_counts().pending == 0
            ),
            "both pushes",
        )
        record = server_contact(sqlite_server, call["id"])
        assert record["owner_name"] == "Engineer"
        assert record["transfers"][0]["state"] == "accepted"
        assert record["transfers"][0]["mode"] == "warm"
        await until(
            lambda: server_contact(sqlite_server, call["id"])["holds"][-1]["how"] == "transferred",
            "the hold recorded as transferred",
        )

    run(scenario())


def test_a_caller_left_on_hold_is_back_on_the_board_after_the_desk_restarts(
    sqlite_server: LiveServer, vault: TokenVault, run: Run, pbx: httpx.Client
) -> None:
    async def scenario() -> None:
        window = await _window(sqlite_server, vault)
        call = ring(pbx, oslo())
        await _answer(window, call)
        window.calls.hold("find-out")
        await until(lambda: window.session.store.outbox_counts().pending == 0, "the push")
        # When the desk closes with the caller still on hold, and opens again
        await _close(window)
        again = await _window(sqlite_server, vault)
        # Then the caller is on the board (not silently in hand, not forgotten)
        await until(lambda: again.hold_view.ids() == [call["id"]], "the restored hold")
        assert again.contacts.current is None
        assert again.calls.board.held()[0].reason == "find-out"

    run(scenario())


def test_what_was_typed_waits_with_the_held_caller_and_prompts_sound_again_after_a_check_back(
    sqlite_server: LiveServer, vault: TokenVault, run: Run, pbx: httpx.Client
) -> None:
    async def scenario() -> None:
        window = await _window(sqlite_server, vault)
        clock = _fake_clock(window)
        first, second = ring(pbx, oslo()), ring(pbx, oslo())
        await _answer(window, first)
        pane = window.contact_pane
        # Given a half-written note for the first caller
        pane.note_text.setPlainText("Skjermen flimrer etter oppdatering")
        # When a second call is answered (the first goes on hold) and the first resumed
        await _answer(window, second)
        assert pane.note_text.toPlainText() == ""  # the second caller's pane starts clean
        assert window.hold_view.ids() == [first["id"]]
        # Then every check-back prompt is announced, also after the agent checked back
        clock.now += 30
        window.calls.timers.refresh()
        window.calls.check_back(first["id"])
        clock.now += 30
        window.calls.timers.refresh()
        prompts = [n for n in window.notifier.given if n.title.startswith("Check back")]
        assert len(prompts) == 2
        window.calls.resume(first["id"])
        await until(
            lambda: (window.contacts.current or {}).get("id") == first["id"], "the first caller"
        )
        assert pane.note_text.toPlainText() == "Skjermen flimrer etter oppdatering"

    run(scenario())
