"""Starting the desk: display check, fonts, the qasync loop, sign-in and the main window."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import traceback
from types import TracebackType
from typing import TypeVar

from agentdesk.credentials import TokenVault
from agentdesk.display import display_problem
from agentdesk.logs import start_desk_log
from agentdesk.paths import config_dir
from agentdesk.runtime import freeze_start_up
from ui import theme
from ui.background import Background
from ui.desk_session import DeskSession, SignIn, resume, sign_in
from ui.login_dialog import LoginController, LoginView
from ui.main_window import MainWindow
from ui.qt import QtCore, QtWidgets, qasync

log = logging.getLogger(__name__)
DEFAULT_SERVER = "http://127.0.0.1:8765"
T = TypeVar("T")
#: How long another thread may keep the interpreter lock before the GUI thread gets it back.
#: The store's threads and the network run Python too; with the default 5 ms, every call
#: into Qt that lets the lock go may wait that long to get it back, and drawing a list of a
#: hundred rows took 80 ms instead of 3 while a sync page was being stored.
SWITCH_INTERVAL_S = 0.001
#: When set (to anything), the desk prints :data:`READY_LINE` on stdout once its first main
#: window is shown and the event loop has turned once: how start-up time is measured.
READY_MARK_ENV = "AGENTDESK_READY_MARK"
READY_LINE = "agentdesk: desk ready"


def make_application() -> QtWidgets.QApplication:
    app = QtWidgets.QApplication.instance()
    if not isinstance(app, QtWidgets.QApplication):
        app = QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("AgentDesk")
    app.setOrganizationName("AgentDesk")
    app.setQuitOnLastWindowClosed(False)
    theme.apply(app)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    return app


def _settle(future: asyncio.Future[T], value: T) -> None:
    if not future.done():
        future.set_result(value)


class DeskPrefs:
    """The last server and user name (nothing secret), kept between runs."""

    def __init__(self) -> None:
        path = config_dir() / "desk.ini"
        self._settings = QtCore.QSettings(str(path), QtCore.QSettings.Format.IniFormat)

    @property
    def server(self) -> str:
        return str(self._settings.value("server", DEFAULT_SERVER))

    @property
    def username(self) -> str:
        return str(self._settings.value("username", ""))

    def remember(self, server: str, username: str) -> None:
        self._settings.setValue("server", server)
        self._settings.setValue("username", username)
        self._settings.sync()


class Desk:
    """Runs sign-in and the main window until the agent quits."""

    def __init__(self, vault: TokenVault | None = None) -> None:
        self.vault = vault or TokenVault()
        self.prefs = DeskPrefs()
        self.window: MainWindow | None = None
        self.login: LoginView | None = None
        self._ready_said = False

    async def run(
        self, server: str | None = None, username: str | None = None, password: str | None = None
    ) -> int:
        session = await self._first_session(server, username, password)
        while session is not None:
            signed_out = await self._work(session)
            if not signed_out:
                return 0
            session = await self._ask(session.server, session.user.username)
        return 0

    async def _first_session(
        self, server: str | None, username: str | None, password: str | None
    ) -> DeskSession | None:
        server = server or self.prefs.server
        username = username or self.prefs.username
        if password and username:
            return await sign_in(SignIn(server, username, password, remember=False), self.vault)
        if username:
            remembered = await resume(server, username, self.vault)
            if remembered is not None:
                return remembered
        return await self._ask(server, username)

    async def _ask(self, server: str, username: str) -> DeskSession | None:
        """Show the sign-in dialog; None when the agent cancels."""
        view = LoginView()
        self.login = view
        controller = LoginController(view, self.vault, Background(view))
        controller.prefill(server, username)
        done: asyncio.Future[DeskSession | None] = asyncio.get_running_loop().create_future()
        controller.signed_in.connect(lambda s: _settle(done, s))
        view.rejected.connect(lambda: _settle(done, None))
        view.show()
        try:
            return await done
        finally:
            view.hide()
            view.deleteLater()
            self.login = None

    async def _work(self, session: DeskSession) -> bool:
        """Show the main window until it closes; True when the agent signed out."""
        self.prefs.remember(session.server, session.user.username)
        window = MainWindow(session)
        self.window = window
        ended: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        window.closed.connect(lambda: _settle(ended, False))
        window.sign_out_requested.connect(lambda: _settle(ended, True))
        window.show()
        window.focus_search()
        session.start()
        window.search.search_now()
        if not self._ready_said:
            self._ready_said = True
            # Runs once the window's first events (its paint among them) have been handled.
            QtCore.QTimer.singleShot(0, _ready)
        try:
            sign_out = await ended
        finally:
            window.shutdown()
            window.hide()
            # Signing out revokes the refresh token on the server and forgets it here.
            await session.close(sign_out=sign_out)
            window.deleteLater()
            self.window = None
        return sign_out


def _ready() -> None:
    log.info("main window up")
    freeze_start_up()
    if os.environ.get(READY_MARK_ENV):
        print(READY_LINE, flush=True)


def _excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    """Errors in slots are logged and shown, never swallowed and never fatal."""
    text = "".join(traceback.format_exception(kind, value, tb))
    log.error("unhandled error:\n%s", text)
    app = QtWidgets.QApplication.instance()
    if isinstance(app, QtWidgets.QApplication) and app.activeWindow() is not None:
        QtWidgets.QMessageBox.critical(app.activeWindow(), "AgentDesk", f"{value}")


def run_desk(
    server: str | None = None, username: str | None = None, password: str | None = None
) -> int:
    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    app = make_application()
    start_desk_log()
    sys.excepthook = _excepthook
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        result: int = loop.run_until_complete(Desk().run(server, username, password))
    return result


def run_demo_desk(*, server: str, username: str, password: str) -> int:
    """The desk of ``make run``: signed in as the demo agent straight away."""
    return run_desk(server=server, username=username, password=password)


def main() -> int:
    from agentdesk.cli import main as cli_main

    return cli_main(["desk", *sys.argv[1:]])
