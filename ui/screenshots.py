"""``make screenshots``: the main screens, rendered offscreen with the demo data.

Starts the embedded server on a throw-away copy of the demo database, signs in as the demo
agent, and saves one PNG per screen into the folder given on the command line.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SIZE = (1280, 800)


async def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def _settle() -> None:
    """Let layouts and repaints finish before a grab."""
    for _ in range(5):
        await asyncio.sleep(0.05)


async def capture(out: Path, server: str) -> list[Path]:
    from agentdesk.credentials import TokenVault
    from agentdesk.demo import DEMO_AGENT
    from agentdesk.sync.engine import SyncState
    from ui.background import Background
    from ui.desk_session import SignIn, sign_in
    from ui.login_dialog import LoginController, LoginView
    from ui.main_window import MainWindow

    saved: list[Path] = []

    def grab(widget: object, name: str) -> None:
        path = out / f"{name}.png"
        widget.grab().save(str(path))  # type: ignore[attr-defined]
        saved.append(path)

    vault = TokenVault()
    login = LoginView()
    controller = LoginController(login, vault, Background(login))
    controller.prefill(server, DEMO_AGENT.username)
    login.password.setText(DEMO_AGENT.password)
    login.remember.setChecked(True)
    login.show()
    await _settle()
    grab(login, "01-sign-in")
    login.close()

    session = await sign_in(
        SignIn(server, DEMO_AGENT.username, DEMO_AGENT.password, remember=False), vault
    )
    window = MainWindow(session)
    window.background.show_dialogs = False
    window.resize(*SIZE)
    window.show()
    session.start()
    await wait_for(lambda: session.status.state is SyncState.UP_TO_DATE, "the first sync")
    window.search.search_now()
    await wait_for(lambda: window.search_view.results.topLevelItemCount() > 20, "results")
    await _settle()
    grab(window, "02-customers")

    window.search_view.query.setText("王")
    await wait_for(
        lambda: 0 < window.search_view.results.topLevelItemCount() < 20, "Chinese results"
    )
    target = next(
        s for s in await session.runner.read(session.store.search, "王伟") if s.name == "王伟"
    )
    window.open_customer(target.id)
    await wait_for(lambda: window.sheet.customer_id == target.id, "the sheet")
    await _settle()
    grab(window, "03-sheet-chinese")

    window.search_view.query.setText("ødegård")

    def first_result() -> str:
        item = window.search_view.results.topLevelItem(0)
        return item.text(0) if item is not None else ""

    await wait_for(lambda: "Ødegård" in first_result(), "the Norwegian result")
    norwegian = next(s for s in await session.runner.read(session.store.search, "ødegård"))
    window.open_customer(norwegian.id)
    await wait_for(lambda: window.sheet.customer_id == norwegian.id, "the Norwegian sheet")
    await _settle()
    grab(window, "04-sheet-norwegian")

    view = window.sheet_view
    view.phones.rows[0].number.setText("6552 9988")
    view.phones.rows[0].number.textEdited.emit("6552 9988")
    view.name.setText("")
    view.name.textEdited.emit("")
    ips = view.device_forms[0].slots["ip_addresses"].editor
    ips.setPlainText("10.20.1.300")  # type: ignore[attr-defined]
    window.sheet.save()
    await wait_for(lambda: "fix" in view.save_state.text(), "the refusal")
    await _settle()
    grab(window, "05-invalid-edit")

    window.sheet.dirty = False  # leave the refused edit unsaved, as an agent would revert it
    window.close()
    await session.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "docs/screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="agentdesk-shots-") as tmp:
        os.environ["AGENTDESK_DATA_DIR"] = tmp
        from agentdesk.demo import free_port, prepare_demo, server_process
        from ui.app import make_application
        from ui.qt import qasync

        db_url = f"sqlite:///{Path(tmp) / 'server.sqlite'}"
        prepare_demo(db_url)
        app = make_application()
        with server_process(db_url, free_port()) as server:
            loop = qasync.QEventLoop(app)
            asyncio.set_event_loop(loop)
            with loop:
                saved = loop.run_until_complete(capture(out, server))
    for path in saved:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
