"""The desk end to end: sign in, search, open a sheet, edit it, offline and back."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from keyring.backends import fail

from agentdesk.credentials import TokenVault
from agentdesk.display import display_problem
from agentdesk.sync.engine import Backoff, SyncState
from tests.conftest import LiveServer
from tests.ui.conftest import CLEANUPS, add_customers, server_sheet, until
from ui.background import Background
from ui.desk_session import DeskSession, SignIn, sign_in
from ui.login_dialog import LoginController, LoginView
from ui.main_window import MainWindow
from ui.qt import QtCore, QtWidgets

Run = Callable[[Coroutine[Any, Any, Any]], Any]

WANG_ID = str(uuid.uuid4())
BJORN_ID = str(uuid.uuid4())


@pytest.fixture
def desk_server(
    sqlite_server: LiveServer, customer_factory: Callable[..., dict[str, object]]
) -> LiveServer:
    add_customers(
        sqlite_server,
        [
            customer_factory(
                id=WANG_ID,
                name="王伟",
                organisation="华信物流有限公司",
                tier="A",
                language="zh_CN",
                timezone="Asia/Shanghai",
                phones=[{"label": "office", "number": "+86 10 6552 9988"}],
                email="wang.wei@huaxin.example.cn",
            ),
            customer_factory(id=BJORN_ID, name="Bjørn Ødegård", organisation="Aker sykehus"),
            *[customer_factory() for _ in range(5)],
        ],
    )
    return sqlite_server


_CLOSED: set[DeskSession] = set()


async def _sign_in(server: LiveServer, vault: TokenVault, role: str = "agent") -> DeskSession:
    account = server.accounts[role]
    form = SignIn(server.url, account.username, account.password, remember=False)
    return await sign_in(form, vault)


async def _window(server: LiveServer, vault: TokenVault, role: str = "agent") -> MainWindow:
    """A signed-in desk after its first sync. Each test runs as one coroutine, so the loop
    keeps running (as in the desk) while the sync engine works."""
    session = await _sign_in(server, vault, role)
    window = MainWindow(session)
    window.background.show_dialogs = False
    window.resize(1280, 800)
    window.show()
    CLEANUPS.append(lambda: _close(window))
    session.start()
    await until(lambda: session.status.state is SyncState.UP_TO_DATE, "the first sync")
    return window


async def _close(window: MainWindow) -> None:
    if window.session in _CLOSED:
        return
    _CLOSED.add(window.session)
    window.sheet.dirty = False
    window.close()
    window.shutdown()
    await window.session.close()
    window.deleteLater()
    await asyncio.sleep(0.05)


async def _open(window: MainWindow, customer_id: str) -> None:
    window.open_customer(customer_id)
    await until(lambda: window.sheet.customer_id == customer_id, "the sheet to open")


# --- sign-in ------------------------------------------------------------------------------


def test_sign_in_marks_empty_fields_and_sends_nothing(vault: TokenVault, run: Run) -> None:
    # Given an empty sign-in form
    view = LoginView()
    controller = LoginController(view, vault, Background(view))
    controller.prefill("", "")
    # When the agent presses Sign in
    view.sign_in_button.click()
    # Then each empty field says what is expected, and nothing is busy
    assert view.slots["server"].error.text().startswith("Enter the server address")
    assert view.slots["username"].error.text() == "Enter your user name"
    assert view.slots["password"].error.text() == "Enter your password"
    assert view.sign_in_button.isEnabled()


def test_sign_in_rejects_a_wrong_password_and_accepts_the_right_one(
    desk_server: LiveServer, vault: TokenVault, run: Run
) -> None:
    async def scenario() -> None:
        # Given the sign-in dialog for a real server
        view = LoginView()
        controller = LoginController(view, vault, Background(view))
        account = desk_server.accounts["agent"]
        controller.prefill(desk_server.url, account.username)
        sessions: list[DeskSession] = []
        controller.signed_in.connect(sessions.append)
        # When the password is wrong
        view.password.setText("not-the-password")
        view.sign_in_button.click()
        await until(lambda: not view.message.isHidden(), "the refusal")
        # Then the dialog says so and keeps the form
        assert view.message.text() == "Incorrect user name or password."
        assert view.username.text() == account.username
        # When the right password is given
        view.password.setText(account.password)
        view.sign_in_button.click()
        await until(lambda: sessions, "the session")
        # Then a session for that user opens
        assert sessions[0].user.username == account.username
        await sessions[0].close()

    run(scenario())


def test_sign_in_says_how_long_to_wait_after_too_many_failures(
    sqlite_server: LiveServer, vault: TokenVault, run: Run
) -> None:
    from agentdesk.server.throttle import FREE_FAILURES

    async def scenario() -> None:
        view = LoginView()
        controller = LoginController(view, vault, Background(view))
        controller.prefill(sqlite_server.url, sqlite_server.accounts["agent"].username)
        for attempt in range(FREE_FAILURES):
            view.message.hide()
            view.password.setText(f"wrong-{attempt}")
            view.sign_in_button.click()
            await until(lambda: not view.message.isHidden(), "the refusal")
        assert view.message.text().startswith("Too many failed sign-ins for this name")
        assert "try again in" in view.message.text()
        assert view.username.text() == sqlite_server.accounts["agent"].username

    run(scenario())


def test_remember_me_keeps_the_refresh_token_in_the_keyring_only(
    desk_server: LiveServer, vault: TokenVault, run: Run
) -> None:
    async def scenario() -> None:
        # Given "remember me"
        account = desk_server.accounts["agent"]
        form = SignIn(desk_server.url, account.username, account.password, remember=True)
        # When the agent signs in
        session = await sign_in(form, vault)
        await asyncio.sleep(0.2)  # the keyring write runs on a worker thread
        # Then the keyring holds the refresh token and the local store does not
        token = vault.load(desk_server.url, account.username)
        assert token and token == session.client.refresh_token
        store_bytes = session.store.path.read_bytes() if session.store.path else b""
        assert token.encode() not in store_bytes
        await session.close()

    run(scenario())


def test_a_machine_without_keyring_says_so_on_the_sign_in_form() -> None:
    # Given a machine whose keyring has no backend
    vault = TokenVault(fail.Keyring())
    # When the sign-in form opens
    view = LoginView()
    LoginController(view, vault, Background(view))
    # Then it explains that "remember me" lasts only for this session
    assert not view.keyring_note.isHidden()
    assert "never written to a file" in view.keyring_note.text()


def test_no_display_is_reported_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given Linux without DISPLAY, WAYLAND_DISPLAY or a Qt platform override
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    # When the desk checks for a display
    problem = display_problem()
    # Then it explains in one line, naming xvfb-run
    assert problem is not None and "\n" not in problem and "xvfb-run" in problem


# --- search and the sheet -----------------------------------------------------------------


def _first_result(window: MainWindow) -> str:
    item = window.search_view.results.topLevelItem(0)
    return item.text(0) if item is not None else ""


def test_search_finds_customers_as_the_agent_types(
    desk_server: LiveServer, vault: TokenVault, run: Run
) -> None:
    async def scenario() -> None:
        # Given a signed-in desk after its first sync
        window = await _window(desk_server, vault)
        results = window.search_view.results
        # When the agent types part of a Chinese name
        window.search_view.query.setText("王")
        await until(lambda: results.topLevelItemCount() == 1, "one result")
        # Then the match is listed with its tier
        item = results.topLevelItem(0)
        assert item is not None
        assert (item.text(0), item.text(1)) == ("王伟", "A")
        # When the agent types phone digits with spaces, then a Norwegian name in lower case
        window.search_view.query.setText("6552 99")
        await until(lambda: _first_result(window) == "王伟", "the phone match")
        window.search_view.query.setText("ødeg")
        await until(lambda: _first_result(window) == "Bjørn Ødegård", "the Norwegian match")
        assert results.topLevelItemCount() == 1
        await _close(window)

    run(scenario())


def test_opening_a_sheet_shows_every_part_of_it(
    desk_server: LiveServer, vault: TokenVault, run: Run
) -> None:
    async def scenario() -> None:
        # Given a synced desk
        window = await _window(desk_server, vault)
        # When the agent opens 王伟's sheet
        await _open(window, WANG_ID)
        view = window.sheet_view
        # Then contact, tier badge, service and the computer are shown
        assert view.title.text() == "王伟"
        assert "Tier A" in view.badge.text()
        assert view.organisation.text() == "华信物流有限公司"
        assert view.phones.rows[0].number.text() == "+86 10 6552 9988"
        assert view.language.currentData() == "zh_CN"
        assert view.timezone.currentText() == "Asia/Shanghai"
        device = view.device_forms[0].value()
        assert device["cpu"] and device["ip_addresses"] == ["10.1.2.3"]
        await _close(window)

    run(scenario())


def test_a_refused_edit_keeps_the_typed_text_and_saves_nothing(
    desk_server: LiveServer, vault: TokenVault, run: Run
) -> None:
    async def scenario() -> None:
        # Given an open sheet
        window = await _window(desk_server, vault)
        session = window.session
        await _open(window, BJORN_ID)
        view = window.sheet_view
        # When the agent types a number without area code and a malformed IP, and saves
        view.phones.rows[0].number.setText("6552 9988")
        view.phones.rows[0].number.textEdited.emit("6552 9988")
        ips = view.device_forms[0].slots["ip_addresses"].editor
        assert isinstance(ips, QtWidgets.QPlainTextEdit)
        ips.setPlainText("10.1.2.300")
        window.sheet.save()
        await until(lambda: "fix" in view.save_state.text(), "the refusal")
        # Then each field says what is wrong, and what was typed is still there
        assert "country code" in view.phones.rows[0].slot.error.text()
        assert "IPv4 or IPv6" in view.device_forms[0].slots["ip_addresses"].error.text()
        assert view.phones.rows[0].number.text() == "6552 9988"
        assert ips.toPlainText() == "10.1.2.300"
        assert "phone 1" in view.form_error.text()
        assert window.sheet.dirty
        # And nothing was written to the local store
        assert session.store.outbox_counts().pending == 0
        stored = session.store.customer(BJORN_ID)
        assert stored is not None and stored.phones[0].number == "+4722334455"
        await _close(window)

    run(scenario())


def test_an_empty_name_is_refused_on_the_name_field(
    desk_server: LiveServer, vault: TokenVault, run: Run
) -> None:
    async def scenario() -> None:
        # Given an open sheet
        window = await _window(desk_server, vault)
        await _open(window, BJORN_ID)
        view = window.sheet_view
        # When the name is cleared and the sheet saved
        view.name.setText("")
        view.name.textEdited.emit("")
        window.sheet.save()
        await until(lambda: not view.slots["name"].error.isHidden(), "the name error")
        # Then the name field explains what is expected
        assert "full name" in view.slots["name"].error.text()
        assert view.name.property("invalid") is True
        await _close(window)

    run(scenario())


def test_pasted_control_characters_and_overlong_text_are_refused_and_kept(
    desk_server: LiveServer, vault: TokenVault, run: Run
) -> None:
    async def scenario() -> None:
        window = await _window(desk_server, vault)
        await _open(window, BJORN_ID)
        view = window.sheet_view
        # When text with a control character and an overlong organisation are pasted in
        pasted = "Aker\x07 Sentralsykehus"
        view.name.setText(pasted)
        view.name.textEdited.emit(pasted)
        long_text = "Oslo universitetssykehus " * 20
        view.organisation.setText(long_text)
        view.organisation.textEdited.emit(long_text)
        window.sheet.save()
        await until(lambda: not view.slots["name"].error.isHidden(), "the name error")
        # Then each field says what is wrong, and keeps what was typed
        assert "control characters" in view.slots["name"].error.text()
        assert "too long" in view.slots["organisation"].error.text()
        assert view.name.text() == pasted and view.organisation.text() == long_text
        assert window.session.store.outbox_counts().pending == 0
        await _close(window)

    run(scenario())


def test_the_audit_trail_shows_who_changed_what(
    desk_server: LiveServer, vault: TokenVault, run: Run
) -> None:
    async def scenario() -> None:
        window = await _window(desk_server, vault)
        await _open(window, BJORN_ID)
        view = window.sheet_view
        view.organisation.setText("Oslo universitetssykehus")
        view.organisation.textEdited.emit("Oslo universitetssykehus")
        view.save_button.click()
        await until(lambda: server_sheet(desk_server, BJORN_ID)["version"] == 2, "the edit synced")
        dialog = window.show_audit()
        assert dialog is not None
        await until(lambda: dialog.table.rowCount() >= 2, "the trail")
        first = [dialog.table.item(0, c).text() for c in range(4)]  # type: ignore[union-attr]
        assert first[1] == "Agent.North" and first[2] == "Sheet · update"
        assert "organisation:" in first[3] and "→ Oslo universitetssykehus" in first[3]
        dialog.close()
        await _close(window)

    run(scenario())


def test_a_valid_edit_is_saved_locally_then_reaches_the_server(
    desk_server: LiveServer, vault: TokenVault, run: Run
) -> None:
    async def scenario() -> None:
        # Given an open sheet
        window = await _window(desk_server, vault)
        session = window.session
        await _open(window, BJORN_ID)
        view = window.sheet_view
        # When the agent changes the organisation and presses Save
        view.organisation.setText("Oslo universitetssykehus")
        view.organisation.textEdited.emit("Oslo universitetssykehus")
        assert view.save_button.isEnabled()
        view.save_button.click()
        await until(lambda: "Saved" in view.save_state.text(), "the save")
        # Then the local store has it at once
        stored = session.store.customer(BJORN_ID)
        assert stored is not None and stored.organisation == "Oslo universitetssykehus"
        # And the server receives it, once
        await until(
            lambda: server_sheet(desk_server, BJORN_ID)["version"] == 2, "the server's copy"
        )
        sheet = server_sheet(desk_server, BJORN_ID)
        assert sheet["organisation"] == "Oslo universitetssykehus"
        await until(lambda: session.store.outbox_counts().pending == 0, "an empty outbox")
        await _close(window)

    run(scenario())


def test_the_same_field_changed_on_two_desks_is_shown_with_both_values(
    desk_server: LiveServer, vault: TokenVault, run: Run
) -> None:
    async def scenario() -> None:
        # Given a desk that edits a sheet's location while the server is away
        window = await _window(desk_server, vault)
        session = window.session
        session.engine.backoff = Backoff(base=30, cap=30)  # it waits until woken
        desk_server.process.stop()
        await _open(window, WANG_ID)
        view = window.sheet_view
        view.location.setText("北京市朝阳区 5 楼")
        view.location.textEdited.emit("北京市朝阳区 5 楼")
        window.sheet.save()
        await until(lambda: "Saved" in view.save_state.text(), "the local save")
        # And meanwhile another desk changed the same field on the server
        desk_server.process.start()
        with desk_server.http("supervisor") as http:
            current = http.get(f"/api/v1/customers/{WANG_ID}").json()
            changed = http.put(
                f"/api/v1/customers/{WANG_ID}",
                json={"version": current["version"], "location": "上海市浦东新区 12 楼"},
            )
            assert changed.status_code == 200, changed.text
        # When the desk syncs
        session.engine.backoff = Backoff(base=0.05, cap=0.2)
        session.wake_sync()
        await until(lambda: not view.banner.isHidden(), "the conflict shown")
        # Then both values are shown, and nothing was overwritten
        text = view.banner.findChildren(QtWidgets.QLabel)[0].text()
        assert "北京市朝阳区 5 楼" in text and "上海市浦东新区 12 楼" in text
        assert server_sheet(desk_server, WANG_ID)["location"] == "上海市浦东新区 12 楼"
        # When the agent keeps theirs, it reaches the server
        keep = next(
            b for b in view.banner.findChildren(QtWidgets.QPushButton) if b.text() == "Keep mine"
        )
        keep.click()
        await until(
            lambda: server_sheet(desk_server, WANG_ID)["location"] == "北京市朝阳区 5 楼",
            "mine on the server",
        )
        await until(lambda: view.banner.isHidden(), "the conflict resolved")
        await _close(window)

    run(scenario())


def test_with_the_server_stopped_the_desk_works_and_catches_up_later(
    desk_server: LiveServer, vault: TokenVault, run: Run
) -> None:
    async def scenario() -> None:
        # Given a synced desk that retries quickly
        window = await _window(desk_server, vault)
        session = window.session
        session.engine.backoff = Backoff(base=0.05, cap=0.2)
        # When the server stops and the agent edits a sheet
        desk_server.process.stop()
        await _open(window, WANG_ID)
        view = window.sheet_view
        view.location.setText("北京市朝阳区 5 楼")
        view.location.textEdited.emit("北京市朝阳区 5 楼")
        window.sheet.save()
        await until(lambda: "Saved" in view.save_state.text(), "the local save")
        # Then the status bar says offline with one change waiting
        await until(lambda: session.status.state is SyncState.OFFLINE, "offline")
        await until(lambda: "1 change to send" in window.sync_status.text.text(), "the count")
        assert "Offline" in window.sync_status.text.text()
        # And search still works
        window.search_view.query.setText("华信")
        await until(lambda: _first_result(window) == "王伟", "offline search")
        # When the server comes back
        desk_server.process.start()
        session.wake_sync()
        await until(
            lambda: session.status.state is SyncState.UP_TO_DATE and session.status.pending == 0,
            "catching up",
        )
        # Then the edit is on the server exactly once
        sheet = server_sheet(desk_server, WANG_ID)
        assert (sheet["location"], sheet["version"]) == ("北京市朝阳区 5 楼", 2)
        await _close(window)

    run(scenario())


def test_a_new_sheet_is_created_locally_and_on_the_server(
    desk_server: LiveServer, vault: TokenVault, run: Run
) -> None:
    async def scenario() -> None:
        # Given a synced desk
        window = await _window(desk_server, vault)
        session = window.session
        # When the agent fills a new sheet and saves it
        window.new_customer()
        view = window.sheet_view
        view.name.setText("Анна Кузнецова")
        view.phones.rows[0].number.setText("+7 495 614-72-38")
        view.tier.setCurrentIndex(view.tier.findData("A"))
        window.sheet.save()
        await until(lambda: "Saved" in view.save_state.text(), "the save")
        customer_id = window.sheet.customer_id
        assert customer_id is not None
        # Then the server has it, in the agent's department
        await until(lambda: session.store.outbox_counts().pending == 0, "the push")
        sheet = server_sheet(desk_server, customer_id)
        assert (sheet["name"], sheet["tier"], sheet["department"]) == (
            "Анна Кузнецова",
            "A",
            "North",
        )
        assert sheet["phones"][0]["number"] == "+74956147238"
        await _close(window)

    run(scenario())


def test_ctrl_f_focuses_the_search_field(
    desk_server: LiveServer, vault: TokenVault, run: Run, qtbot: Any
) -> None:
    async def scenario() -> None:
        # Given a desk with the focus on a sheet
        window = await _window(desk_server, vault)
        await _open(window, BJORN_ID)
        window.sheet_view.name.setFocus()
        # When the agent presses Ctrl+F
        qtbot.keyClick(window, QtCore.Qt.Key.Key_F, QtCore.Qt.KeyboardModifier.ControlModifier)
        # Then the search field has the focus
        await until(lambda: window.search_view.query.hasFocus(), "focus on search")
        await _close(window)

    run(scenario())
