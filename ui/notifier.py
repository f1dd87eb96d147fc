"""Telling the agent that something arrived: a sound and a desktop notification.

The notification goes through the system tray, so it shows also when the desk is not the
window in front. Where the desktop has no tray, the window's status bar says it instead and
the window asks for attention in the task bar. The sound plays through Qt Multimedia when
the machine has an audio output, else the system bell rings. ``AGENTDESK_SOUND=off`` keeps
the desk quiet (shared offices, test runs).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from ui.qt import QtCore, QtGui, QtWidgets
from ui.theme import ICON, RESOURCES

log = logging.getLogger(__name__)

NEW_CONTACT_SOUND = RESOURCES / "sounds" / "new-contact.wav"
MESSAGE_MS = 8000


@dataclass(frozen=True)
class Notice:
    """One notification as it was given (kept for the status line and for tests)."""

    title: str
    text: str
    via_tray: bool
    sound: str  # "effect", "bell" or "off"
    loud: bool = False


def sound_enabled() -> bool:
    return os.environ.get("AGENTDESK_SOUND", "on").strip().lower() not in ("off", "0", "no")


class Chime:
    """Plays the new-contact sound; loads Qt Multimedia only when there is somewhere to play."""

    def __init__(self) -> None:
        self._effect: Any = None
        self._tried = False

    def _load(self) -> Any:
        self._tried = True
        # The audio back end reports every optional video library it does not find; an
        # agent has no use for that on the console.
        QtCore.QLoggingCategory.setFilterRules("qt.multimedia.*=false")
        try:
            from PySide6 import QtMultimedia
        except ImportError as exc:  # the audio libraries of the system are missing
            log.info("no Qt Multimedia (%s); using the system bell", exc)
            return None
        if not QtMultimedia.QMediaDevices.audioOutputs():
            log.info("no audio output; using the system bell")
            return None
        effect = QtMultimedia.QSoundEffect()
        effect.setSource(QtCore.QUrl.fromLocalFile(str(NEW_CONTACT_SOUND)))
        effect.setVolume(0.8)
        return effect

    def play(self, *, loud: bool = False) -> str:
        if not sound_enabled():
            return "off"
        if not self._tried:
            self._effect = self._load()
        if self._effect is not None:
            # Louder, and twice, when something has waited too long.
            self._effect.setVolume(1.0 if loud else 0.8)
            self._effect.setLoopCount(2 if loud else 1)
            self._effect.play()
            return "effect"
        QtWidgets.QApplication.beep()
        return "bell"


class Notifier(QtCore.QObject):
    """Desktop notifications for one window.

    Signals:
        activated(): the agent clicked a notification (bring the desk to the front).
    """

    activated = QtCore.Signal()

    def __init__(self, window: QtWidgets.QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.chime = Chime()
        self.given: list[Notice] = []
        self.tray: QtWidgets.QSystemTrayIcon | None = None
        if QtWidgets.QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QtWidgets.QSystemTrayIcon(QtGui.QIcon(str(ICON)), self)
            self.tray.setToolTip("AgentDesk")
            self.tray.messageClicked.connect(self.activated.emit)
            self.tray.activated.connect(lambda _reason: self.activated.emit())
            self.tray.show()

    def notify(self, title: str, text: str, *, sound: bool = True, loud: bool = False) -> Notice:
        played = self.chime.play(loud=loud) if sound else "off"
        via_tray = self.tray is not None and self.tray.supportsMessages()
        if via_tray:
            assert self.tray is not None
            self.tray.showMessage(
                title, text, QtWidgets.QSystemTrayIcon.MessageIcon.Information, MESSAGE_MS
            )
        else:
            self.window.statusBar().showMessage(f"{title}: {text}", MESSAGE_MS)
        if not self.window.isActiveWindow():
            QtWidgets.QApplication.alert(self.window)
        notice = Notice(title, text, via_tray, played, loud)
        self.given.append(notice)
        return notice

    def hide(self) -> None:
        if self.tray is not None:
            self.tray.hide()
