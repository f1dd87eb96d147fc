"""A customer's audit trail: every change of the sheet, its contacts and visits, newest
first, with who made it and the fields before and after. It is kept on the server."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from agentdesk.wire import AuditEntryPublic
from ui.qt import Qt, QtWidgets
from ui.queue_panel import row_table

COLUMNS = ("When", "Who", "What", "Changes")
WHAT = {"sheet": "Sheet", "contact": "Contact", "message": "Message", "visit": "Visit"}


def _value(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        return value
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "…"


def describe(entry: AuditEntryPublic) -> str:
    """The changed fields: ``field: before → after``, one per line."""
    before = entry.before or {}
    lines = []
    for name, after in entry.after.items():
        if name == "id" or name.endswith("_id"):
            continue  # internal references: kept on the server, noise to a reader
        if entry.before is None:
            lines.append(f"{name}: {_value(after)}")
        else:
            lines.append(f"{name}: {_value(before.get(name))} → {_value(after)}")
    return "\n".join(lines) or "(no field changed)"


class AuditDialog(QtWidgets.QDialog):
    """The trail of one customer; filled when the server answers."""

    def __init__(self, customer_name: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("audit-dialog")
        self.setWindowTitle(f"Audit trail — {customer_name}")
        self.resize(900, 520)
        self.status = QtWidgets.QLabel("Asking the server…")
        self.status.setProperty("role", "subtle")
        self.table = row_table("audit-table", COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(
            3, QtWidgets.QHeaderView.ResizeMode.Stretch
        )
        self.table.setWordWrap(True)
        close = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addWidget(close)

    def show_entries(self, entries: list[AuditEntryPublic]) -> None:
        self.status.setText(f"{len(entries)} changes, newest first")
        self.table.setRowCount(len(entries))
        for row, entry in enumerate(entries):
            when = dt.datetime.fromisoformat(entry.at).astimezone().strftime("%d %b %Y %H:%M")
            values = (
                when,
                entry.who or "—",
                f"{WHAT.get(entry.entity, entry.entity)} · {entry.op.replace('_', ' ')}",
                describe(entry),
            )
            for column, value in enumerate(values):
                item = QtWidgets.QTableWidgetItem(value)
                item.setToolTip(value)
                item.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
                self.table.setItem(row, column, item)
        self.table.resizeRowsToContents()

    def show_problem(self, text: str) -> None:
        self.status.setText(text)
