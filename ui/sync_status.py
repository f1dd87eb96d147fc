"""The sync state in the status bar: offline / syncing / up to date, with counts."""

from __future__ import annotations

from agentdesk.sync.engine import SyncState, SyncStatus
from ui import theme
from ui.qt import QtWidgets


def describe_status(status: SyncStatus) -> str:
    """One line for the status bar."""
    if status.state is SyncState.UP_TO_DATE:
        text = "Up to date"
        if status.last_synced is not None:
            text += f" · {status.last_synced.astimezone().strftime('%H:%M:%S')}"
    elif status.state is SyncState.SYNCING:
        text = "Syncing…"
        if status.progress is not None:
            done, total = status.progress
            text = f"Syncing… {done:,} of {total:,} records"
    elif status.state is SyncState.OFFLINE:
        text = "Offline — working on this computer"
        if status.retry_in is not None:
            text += f"; retrying in {status.retry_in:.0f} s"
    elif status.state is SyncState.SERVER_ERROR:
        text = f"Server trouble ({status.detail}); retrying"
        if status.retry_in is not None:
            text += f" in {status.retry_in:.0f} s"
    else:
        text = "Sign-in required — your saved work is kept"
    extras = []
    if status.pending:
        extras.append(f"{status.pending} change{'s' if status.pending != 1 else ''} to send")
    if status.conflicts:
        extras.append(f"{status.conflicts} conflict{'s' if status.conflicts != 1 else ''}")
    if status.rejected:
        extras.append(f"{status.rejected} refused")
    if status.unreadable:
        extras.append(f"{status.unreadable} unreadable from the server, skipped (see the log)")
    return " · ".join([text, *extras])


class SyncStatusWidget(QtWidgets.QWidget):
    """A coloured dot, the state in words, and a progress bar during a long pull."""

    def __init__(self) -> None:
        super().__init__()
        self.dot = QtWidgets.QLabel("●")
        self.text = QtWidgets.QLabel("")
        self.text.setObjectName("sync-state")
        self.progress = QtWidgets.QProgressBar()
        self.progress.setObjectName("sync-progress")
        self.progress.setMaximumWidth(180)
        self.progress.setTextVisible(False)
        self.progress.hide()
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.dot)
        layout.addWidget(self.text)
        layout.addWidget(self.progress)
        layout.addStretch(1)
        self.state: SyncState | None = None

    def show_status(self, status: SyncStatus) -> None:
        self.state = status.state
        colour = theme.STATE_COLOURS.get(status.state.value, "#98a2b3")
        self.dot.setStyleSheet(f"color: {colour};")
        self.text.setText(describe_status(status))
        tip = status.detail or status.state.value
        if status.last_synced is not None:
            tip += f"\nLast synced {status.last_synced.astimezone():%Y-%m-%d %H:%M:%S}"
        self.setToolTip(tip)
        if status.progress is not None and status.progress[1] > 0:
            done, total = status.progress
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            self.progress.show()
        else:
            self.progress.hide()
