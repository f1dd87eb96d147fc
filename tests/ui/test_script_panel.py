"""The script panel follows a call from the greeting to the closing, in the caller's language."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest

from agentdesk.credentials import TokenVault
from tests.conftest import LiveServer
from tests.ui.conftest import add_customers, oslo, ring, server_contact, until
from tests.ui.test_desk import _window
from ui.qt import Qt

Run = Callable[[Coroutine[Any, Any, Any]], Any]


@pytest.fixture(autouse=True)
def quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTDESK_SOUND", "off")


def _checked(panel: Any) -> list[str]:
    items = [panel.checklist.item(i) for i in range(panel.checklist.count())]
    return [
        str(i.data(Qt.ItemDataRole.UserRole))
        for i in items
        if i.checkState() == Qt.CheckState.Checked
    ]


def test_the_panel_walks_a_call_from_greeting_to_closing_and_records_it(
    sqlite_server: LiveServer,
    vault: TokenVault,
    run: Run,
    pbx: httpx.Client,
    customer_factory: Callable[..., dict[str, Any]],
) -> None:
    number = oslo()
    sheet = customer_factory(
        name="Wang Wei", language="en", phones=[{"label": "office", "number": number}]
    )
    add_customers(sqlite_server, [sheet])

    async def scenario() -> None:
        window = await _window(sqlite_server, vault)
        panel = window.script_panel
        assert "starts when a contact is answered" in panel.tip.text()
        call = ring(pbx, number)
        await until(lambda: call["id"] in window.queue_view.ids(), "the call")
        window.queue.answer_requested.emit(window.queue.records[call["id"]])
        await until(lambda: window.contacts.current is not None, "the answer")
        # The greeting, with the agent's full name, and "answered" ticked by itself
        assert panel.title.text() == "Greeting"
        assert "Agent.North speaking" in panel.lines.item(0).text()
        assert _checked(panel) == ["answered"]
        # Walk the main line; the caller's name fills the closing
        panel.next_button.click()
        assert panel.title.text() == "Get and confirm the name"
        assert _checked(panel) == ["name"]  # the caller is known: named by itself
        panel.next_button.click()
        panel.branches.setCurrentIndex(panel.branches.findData("vent"))
        panel.go_button.click()
        assert panel.title.text() == "Let them vent"
        panel.next_button.click()
        assert panel.title.text() == "TEXAS"
        for row in range(panel.checklist.count()):
            panel.checklist.item(row).setCheckState(Qt.CheckState.Checked)
        panel.next_button.click()
        panel.next_button.click()
        assert panel.title.text() == "Closing"
        assert panel.lines.item(0).text().startswith("Before I go, Wang Wei")
        assert not panel.next_button.isEnabled()
        # Wrapping up records what was shown, ticked and skipped
        pane = window.contact_pane
        pane.category.setCurrentIndex(pane.category.findData("complaint"))
        pane.outcome.setCurrentIndex(pane.outcome.findData("solved"))
        pane.wrap_button.click()
        await until(lambda: window.contacts.current is None, "the wrap-up")
        await until(lambda: window.session.store.outbox_counts().pending == 0, "the push")
        script = server_contact(sqlite_server, call["id"])["script"]
        assert script["path"] == [
            "greeting",
            "name",
            "problem",
            "vent",
            "texas",
            "solve",
            "closing",
        ]
        assert script["ticked"]["texas"] == ["accept", "explain", "sorry", "thank"]
        assert script["skipped_required"] == []

    run(scenario())


def test_the_panel_follows_the_customers_language_and_the_agent_can_switch(
    sqlite_server: LiveServer,
    vault: TokenVault,
    run: Run,
    pbx: httpx.Client,
    customer_factory: Callable[..., dict[str, Any]],
) -> None:
    number = oslo()
    sheet = customer_factory(
        name="王伟", language="zh_CN", phones=[{"label": "office", "number": number}]
    )
    add_customers(sqlite_server, [sheet])

    async def scenario() -> None:
        window = await _window(sqlite_server, vault)
        panel = window.script_panel
        call = ring(pbx, number)
        await until(lambda: call["id"] in window.queue_view.ids(), "the call")
        window.queue.answer_requested.emit(window.queue.records[call["id"]])
        await until(lambda: panel.language.currentData() == "zh", "the Chinese script")
        assert panel.lines.item(0).text().startswith("您好")
        assert "Agent.North" in panel.lines.item(0).text()
        panel.next_button.click()
        panel.language.setCurrentIndex(panel.language.findData("nb"))
        # Same step, other language; the agent's choice sticks
        assert panel.title.text() != "" and panel.language.currentData() == "nb"
        assert window.scripts.run is not None and window.scripts.run.current == "name"

    run(scenario())


def test_a_published_script_reaches_the_desk_and_is_kept_for_offline_work(
    sqlite_server: LiveServer, vault: TokenVault, run: Run, pbx: httpx.Client
) -> None:
    from pathlib import Path

    from agentdesk.server.db import make_engine, session_factory
    from agentdesk.server.scripts import publish

    english = Path(__file__).resolve().parents[2] / "scripts_library" / "en" / "call.yaml"
    text = (
        english.read_text(encoding="utf-8")
        .replace("version: 1", "version: 7")
        .replace("Good morning, {organisation} help desk", "Good day, {organisation} service desk")
    )
    engine = make_engine(sqlite_server.db_url)
    with session_factory(engine)() as session, session.begin():
        publish(session, Path("call.yaml"), text, by="boss")
    engine.dispose()

    async def scenario() -> None:
        window = await _window(sqlite_server, vault)
        await until(
            lambda: window.scripts.library.get("call", "en").version == 7,  # type: ignore[union-attr]
            "the published script",
        )
        call = ring(pbx, oslo())
        await until(lambda: call["id"] in window.queue_view.ids(), "the call")
        window.queue.answer_requested.emit(window.queue.records[call["id"]])
        await until(lambda: window.contacts.current is not None, "the answer")
        assert window.script_panel.lines.item(0).text().startswith("Good day,")
        cached = window.session.store.meta("scripts") or ""
        assert '"version": 7' in cached.replace('"version":7', '"version": 7')

    run(scenario())
