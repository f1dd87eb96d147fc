"""Every awaiting slot and background job of the desk goes through :class:`Background`.

A job runs as an asyncio task on the Qt loop (qasync); store work inside it goes to the
store's threads, network work is asynchronous, so the GUI thread never waits. Errors are
shown to the user by default and always logged; a newer job with the same name cancels the
older one (a new keystroke cancels the previous search).

Never touch a widget from a worker thread: only the callbacks, which run on the GUI thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from ui.qt import QtCore, QtWidgets

log = logging.getLogger(__name__)
T = TypeVar("T")

ErrorHandler = Callable[[BaseException], None]


class Background(QtCore.QObject):
    """Runs coroutines for the desk and reports their failures.

    Signals:
        failed(str): a job failed and nobody handled it; the text is for the user.
    """

    failed = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._parent = parent
        self._named: dict[str, asyncio.Task[Any]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.show_dialogs = True

    def run(
        self,
        job: Coroutine[Any, Any, T],
        *,
        name: str | None = None,
        success: Callable[[T], None] | None = None,
        failure: ErrorHandler | None = None,
    ) -> asyncio.Task[T]:
        """Start ``job``; ``success``/``failure`` run on the GUI thread when it ends."""
        if name is not None and (older := self._named.get(name)) is not None:
            older.cancel()
        task: asyncio.Task[T] = asyncio.ensure_future(job)
        if name is not None:
            self._named[name] = task
        self._tasks.add(task)

        def done(finished: asyncio.Task[T]) -> None:
            self._tasks.discard(finished)
            if name is not None and self._named.get(name) is finished:
                del self._named[name]
            if finished.cancelled():
                return
            error = finished.exception()
            if error is None:
                if success is not None:
                    success(finished.result())
            elif failure is not None:
                failure(error)
            else:
                self.report(error)

        task.add_done_callback(done)
        return task

    def report(self, error: BaseException) -> None:
        """Tell the user about a failure nobody else handled."""
        log.error("background job failed", exc_info=error)
        text = describe(error)
        self.failed.emit(text)
        if self.show_dialogs and self._parent is not None:
            QtWidgets.QMessageBox.warning(self._parent, "AgentDesk", text)

    async def wait_idle(self) -> None:
        """Wait until every running job has ended (used on shutdown and in tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()


def describe(error: BaseException) -> str:
    """A sentence for the user about an error."""
    from agentdesk.sync.client import ApiError, Offline, ServerTrouble, SignInRequired

    if isinstance(error, Offline):
        return "The server cannot be reached. Your work is saved on this computer."
    if isinstance(error, ServerTrouble):
        return f"The server is having trouble (HTTP {error.status}). Try again in a moment."
    if isinstance(error, SignInRequired):
        return "Your sign-in has expired. Sign in again; nothing you saved is lost."
    if isinstance(error, ApiError):
        return f"The server refused the request: {error.detail}"
    return f"Something went wrong: {error}"
