"""Handing a call over: choose the colleague or team, announce the caller, and answering
an announcement on the receiving desk."""

from __future__ import annotations

from typing import Any

from agentdesk.domain.customers import format_phone
from agentdesk.wire import Directory
from ui.coach_edit import CoachedEdit
from ui.qt import Qt, QtCore, QtWidgets


def announcement_for(record: dict[str, Any]) -> str:
    """A first draft of what to tell the colleague: who calls and what it is about."""
    name = record.get("caller_name") or record.get("caller_number") or "The caller"
    notes = record.get("notes") or []
    about = notes[-1]["text"] if notes else "…"
    return f"{name} is on the line about: {about}\nWhy you: "


class TransferDialog(QtWidgets.QDialog):
    """Pick a colleague or a team, write the announcement; warm by default.

    Signals:
        submitted(): the agent pressed Transfer; the dialog closes once the step is recorded.
    """

    submitted = QtCore.Signal()

    def __init__(
        self,
        parent: QtWidgets.QWidget | None,
        directory: Directory,
        record: dict[str, Any],
        *,
        me: str,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Transfer the call")
        self.directory = directory
        self.target = QtWidgets.QComboBox()
        self.target.setObjectName("transfer-target")
        for user in directory.users:
            if user.username == me:
                continue
            dept = f" · {user.department}" if user.department else ""
            self.target.addItem(f"{user.full_name} ({user.role}{dept})", ("user", user.username))
        for team in directory.teams:
            self.target.addItem(f"Team: {team}", ("team", team))
        self.announcement = QtWidgets.QPlainTextEdit(announcement_for(record))
        self.announcement.setObjectName("announcement")
        self.coach = CoachedEdit(self.announcement)
        self.warm = QtWidgets.QRadioButton("Warm: announce first; the colleague accepts")
        self.blind = QtWidgets.QRadioButton("Blind: put the caller straight through")
        self.warm.setChecked(True)
        self.direct = QtWidgets.QLabel("")
        self.direct.setWordWrap(True)
        self.direct.setProperty("role", "notice")
        self.error = QtWidgets.QLabel("")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        form = QtWidgets.QFormLayout()
        form.addRow("To", self.target)
        form.addRow("Announcement", self.announcement)
        form.addRow("", self.warm)
        form.addRow("", self.blind)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setText("Transfer")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.direct)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.target.currentIndexChanged.connect(self._show_direct)
        self._show_direct()
        self.resize(520, 360)

    def _show_direct(self) -> None:
        kind, name = self.target.currentData() or ("", "")
        user = next((u for u in self.directory.users if u.username == name), None)
        if kind == "user" and user is not None and user.phone:
            self.direct.setText(
                f"Tell the caller: next time, {user.full_name} is on "
                f"{format_phone(user.phone)} directly."
            )
            self.direct.show()
        else:
            self.direct.hide()

    def fields(self) -> dict[str, Any]:
        kind, name = self.target.currentData() or ("", "")
        label = self.target.currentText().split(" (")[0].removeprefix("Team: ")
        return {
            "to_user": name if kind == "user" else "",
            "to_team": name if kind == "team" else "",
            "to_name": label,
            "mode": "warm" if self.warm.isChecked() else "blind",
            "announcement": self.announcement.toPlainText(),
        }

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def _accept(self) -> None:
        if self.warm.isChecked() and not self.announcement.toPlainText().strip():
            self.show_error(
                "Announcement: tell the colleague who is calling, what it is about and why them"
            )
            return
        self.error.hide()
        self.submitted.emit()


class TransferOfferDialog(QtWidgets.QDialog):
    """A colleague announces a call: read it, then accept or decline."""

    def __init__(self, parent: QtWidgets.QWidget | None, record: dict[str, Any]) -> None:
        super().__init__(parent)
        transfer = record["transfers"][-1]
        self.contact_id = str(record["id"])
        self.transfer_id = str(transfer["id"])
        self.setWindowTitle(f"{transfer['by']} wants to transfer a call to you")
        caller = record.get("caller_name") or record.get("caller_number") or "A caller"
        heading = QtWidgets.QLabel(f"{caller} · tier {record.get('tier', 'B')}")
        heading.setProperty("role", "heading")
        text = QtWidgets.QLabel(transfer.get("announcement") or "(no announcement)")
        text.setObjectName("announcement")
        text.setWordWrap(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.accept_button = QtWidgets.QPushButton("Accept the call")
        self.accept_button.setProperty("role", "primary")
        self.decline_button = QtWidgets.QPushButton("Decline")
        self.accept_button.clicked.connect(self.accept)
        self.decline_button.clicked.connect(self.reject)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.decline_button)
        buttons.addStretch(1)
        buttons.addWidget(self.accept_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(QtWidgets.QLabel(f"From {transfer['by']}:"))
        layout.addWidget(text)
        layout.addLayout(buttons)
        self.resize(460, 220)
