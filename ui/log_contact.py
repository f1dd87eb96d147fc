"""Logging a contact by hand: an e-mail, an instant message, a visitor at the desk."""

from __future__ import annotations

import datetime as dt
from typing import Any

from agentdesk.domain.contacts import CHANNELS
from ui.qt import QtCore, QtWidgets


class LogContactDialog(QtWidgets.QDialog):
    """Asks what came in and from whom; the contact then becomes the one in hand."""

    def __init__(
        self,
        parent: QtWidgets.QWidget | None,
        *,
        customer_name: str | None = None,
        now: dt.datetime | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Log a contact")
        self.channel = QtWidgets.QComboBox()
        for key in ("email", "im", "walk-in", "phone"):
            self.channel.addItem(CHANNELS[key], key)
        self.for_customer = QtWidgets.QCheckBox(f"From {customer_name}" if customer_name else "")
        self.has_customer = customer_name is not None
        self.for_customer.setChecked(customer_name is not None)
        self.for_customer.setVisible(customer_name is not None)
        self.caller_name = QtWidgets.QLineEdit()
        self.caller_name.setPlaceholderText("Name, when it is not a known customer")
        self.caller_address = QtWidgets.QLineEdit()
        self.caller_address.setPlaceholderText("E-mail address, IM handle or phone number")
        received = (now or dt.datetime.now()).replace(second=0, microsecond=0)
        self.received = QtWidgets.QDateTimeEdit(
            QtCore.QDateTime.fromMSecsSinceEpoch(int(received.timestamp() * 1000))
        )
        self.received.setCalendarPopup(True)
        self.received.setDisplayFormat("dd MMM yyyy HH:mm")
        self.error = QtWidgets.QLabel("")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        form = QtWidgets.QFormLayout()
        form.addRow("Channel", self.channel)
        form.addRow("", self.for_customer)
        form.addRow("Name", self.caller_name)
        form.addRow("Address", self.caller_address)
        form.addRow("Received", self.received)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setText("Log contact")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def uses_customer(self) -> bool:
        return self.has_customer and self.for_customer.isChecked()

    def fields(self) -> dict[str, Any]:
        received = self.received.dateTime().toPython()
        assert isinstance(received, dt.datetime)
        moment = received.astimezone().astimezone(dt.UTC).isoformat()
        return {
            "channel": self.channel.currentData(),
            "caller_name": self.caller_name.text(),
            "caller_address": self.caller_address.text(),
            "offered_at": moment,
            "answered_at": moment,
        }

    def _accept(self) -> None:
        if not self.uses_customer() and not (
            self.caller_name.text().strip() or self.caller_address.text().strip()
        ):
            self.error.setText("Name: give the customer's name or their address or number")
            self.error.show()
            self.caller_name.setFocus()
            return
        self.accept()
