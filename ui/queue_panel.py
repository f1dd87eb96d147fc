"""The incoming-contact panel: who is waiting, in the order they are to be served.

Tier A (critical) before tier B, first come first served within a tier (the core's
:func:`~agentdesk.domain.contacts.queue_order`). Every second the waiting times and ring
counts move on; a call turns amber at the target ring and red once the last acceptable ring
has passed. The controller reads the store off the GUI thread; the view only draws.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Iterable
from typing import Any

from agentdesk.domain.contacts import (
    ANSWER_LIMIT_RING,
    ANSWER_TARGET_RING,
    CHANNELS,
    Urgency,
    WaitingContact,
    queue_order,
)
from agentdesk.domain.customers import format_phone
from ui import theme
from ui.background import Background
from ui.desk_session import DeskSession
from ui.notifier import Notifier
from ui.qt import Qt, QtCore, QtGui, QtWidgets

Clock = Callable[[], float]
URGENCY_COLOURS = {
    Urgency.ON_TIME: None,
    Urgency.DUE: ("#93370d", "#fef0c7"),  # amber: answer now
    Urgency.LATE: ("#912018", "#fee4e2"),  # red: past the third ring
}
COLUMNS = ("Tier", "Caller", "Channel", "Waiting", "Ring")
#: No caller waits this long on a ringing line; such a call was ended without the desk
#: hearing of it.
STALE_AFTER_S = 30 * 60


def caller_text(record: dict[str, Any]) -> str:
    """The customer's name when the number is known, else the formatted number."""
    name = str(record.get("caller_name") or "")
    if name:
        return name
    number = str(record.get("caller_number") or "")
    if not number:
        return "Withheld number"
    formatted = format_phone(number) if number.startswith("+") else number
    candidates = record.get("candidates") or []
    return f"{formatted} · {len(candidates)} possible customers" if candidates else formatted


def waiting(record: dict[str, Any]) -> WaitingContact:
    offered = dt.datetime.fromisoformat(str(record["offered_at"]))
    channel = record.get("channel", "phone")
    return WaitingContact(
        id=str(record["id"]),
        channel=channel if channel in CHANNELS else "phone",
        tier="A" if record.get("tier") == "A" else "B",
        offered_at=offered.timestamp(),
        caller=caller_text(record),
        customer_id=record.get("customer_id"),
    )


def row_table(
    name: str, columns: tuple[str, ...], *, fit_on_every_change: bool = True
) -> QtWidgets.QTableWidget:
    """A read-only table of whole rows, one selected at a time, the second column wide.

    The other columns fit their contents after every change of a cell, unless
    ``fit_on_every_change`` is off: then the owner fits them (:func:`fit_columns`) after it
    has filled the rows. Fitting after each cell measures every row again, which with a
    hundred rows redrawn at once takes seconds.
    """
    table = QtWidgets.QTableWidget(0, len(columns))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(columns))
    table.verticalHeader().setVisible(False)
    table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
    header = table.horizontalHeader()
    header.setSectionResizeMode(
        QtWidgets.QHeaderView.ResizeMode.ResizeToContents
        if fit_on_every_change
        else QtWidgets.QHeaderView.ResizeMode.Interactive
    )
    header.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.Stretch)
    return table


def fit_columns(table: QtWidgets.QTableWidget, columns: Iterable[int] | None = None) -> None:
    """Fit columns (all but the wide second one) to their contents, once."""
    for column in range(table.columnCount()) if columns is None else columns:
        if column != 1:
            table.resizeColumnToContents(column)


def clock_text(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


class QueueView(QtWidgets.QWidget):
    """The list of waiting contacts, with an Answer button for the selected one."""

    def __init__(self) -> None:
        super().__init__()
        title = QtWidgets.QLabel("Incoming contacts")
        title.setProperty("role", "section")
        self.summary = QtWidgets.QLabel("Nobody is waiting")
        self.summary.setProperty("role", "subtle")
        self.table = row_table("queue", COLUMNS, fit_on_every_change=False)
        self.table.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.table.setToolTip(
            f"Answer by ring {ANSWER_TARGET_RING}, ring {ANSWER_LIMIT_RING} at the latest: "
            "amber means answer now, red means the caller has waited too long"
        )
        self.answer_button = QtWidgets.QPushButton("Answer")
        self.answer_button.setProperty("role", "primary")
        self.answer_button.setToolTip("Answer the selected contact (F2)")
        self.answer_button.setEnabled(False)
        self.log_button = QtWidgets.QPushButton("Log contact…")
        self.log_button.setToolTip("Log an e-mail, instant message or walk-in by hand (Ctrl+L)")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.summary)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.log_button)
        buttons.addStretch(1)
        buttons.addWidget(self.answer_button)
        layout.addLayout(buttons)
        self._order: list[WaitingContact] = []
        self._cells: list[list[QtWidgets.QTableWidgetItem]] = []
        self._widest: dict[int, int] = {}  # the longest text in each ticking column

    def _new_row(self, row: int) -> list[QtWidgets.QTableWidgetItem]:
        tier = QtWidgets.QTableWidgetItem()
        tier.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        font = tier.font()
        font.setBold(True)
        tier.setFont(font)
        cells = [tier, *(QtWidgets.QTableWidgetItem() for _ in COLUMNS[1:])]
        for column, cell in enumerate(cells):
            self.table.setItem(row, column, cell)
        return cells

    def show_contacts(self, order: list[WaitingContact], now: float) -> None:
        """Redraw the rows in serving order, keeping the selection on the same contact.

        The rows already there are filled again (a cell that does not change is not
        redrawn), and the table is drawn once when all of them are filled: a burst of calls
        redraws the panel many times a second.
        """
        selected = self.selected_id()
        self._order = order
        table = self.table
        table.setUpdatesEnabled(False)
        try:
            del self._cells[len(order) :]  # their items go with their rows
            table.setRowCount(len(order))
            for row, contact in enumerate(order):
                if row == len(self._cells):
                    self._cells.append(self._new_row(row))
                tier, caller, channel = self._cells[row][:3]
                fg, bg = theme.TIER_COLOURS[contact.tier]
                tier.setText(f"  {contact.tier}  ")
                tier.setForeground(QtGui.QBrush(QtGui.QColor(fg)))
                tier.setBackground(QtGui.QBrush(QtGui.QColor(bg)))
                tier.setData(Qt.ItemDataRole.UserRole, contact.id)
                caller.setText(contact.caller)
                channel.setText(CHANNELS[contact.channel])
            self._widest = {}
            self.tick(now)  # fits the clock and ring columns
            row = next((i for i, c in enumerate(order) if c.id == selected), 0 if order else -1)
            if row >= 0:
                table.selectRow(row)
            fit_columns(table, (0, 2))
        finally:
            table.setUpdatesEnabled(True)
        self.answer_button.setEnabled(bool(order))
        tier_a = sum(1 for c in order if c.tier == "A")
        if order:
            self.summary.setText(
                f"{len(order)} waiting" + (f" · {tier_a} tier A" if tier_a else "")
            )
        else:
            self.summary.setText("Nobody is waiting")

    def tick(self, now: float) -> None:
        """Move waiting times and rings on, and colour each row by how urgent it is."""
        widest = {3: 0, 4: 0}
        for contact, cells in zip(self._order, self._cells, strict=True):
            waited = clock_text(contact.waited(now))
            cells[3].setText(waited)
            rings = cells[4]
            if contact.channel == "phone":
                rings.setText(str(contact.rings(now)))
                rings.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            else:
                rings.setText("—")
            widest[3] = max(widest[3], len(waited))
            widest[4] = max(widest[4], len(rings.text()))
            urgency = contact.urgency(now)
            colours = URGENCY_COLOURS[urgency]
            for item in cells[1:]:
                item.setData(Qt.ItemDataRole.UserRole + 1, urgency.value)
                if colours is None:
                    item.setForeground(QtGui.QBrush())  # the table's own colours
                    item.setBackground(QtGui.QBrush())
                else:
                    item.setForeground(QtGui.QBrush(QtGui.QColor(colours[0])))
                    item.setBackground(QtGui.QBrush(QtGui.QColor(colours[1])))
        # The clock and the rings grow a digit now and then: only then is a column refitted.
        grown = [c for c, n in widest.items() if n > self._widest.get(c, 0)]
        self._widest.update({c: max(n, self._widest.get(c, 0)) for c, n in widest.items()})
        if grown:
            fit_columns(self.table, grown)

    def selected_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self._order):
            return None
        return self._order[rows[0].row()].id

    def ids(self) -> list[str]:
        return [c.id for c in self._order]

    def urgency_of(self, contact_id: str) -> str:
        row = self.ids().index(contact_id)
        return str(self._cells[row][1].data(Qt.ItemDataRole.UserRole + 1))


class QueueController(QtCore.QObject):
    """Keeps the panel in step with the store; announces new contacts; asks to answer.

    Signals:
        answer_requested(dict): the agent chose to answer this waiting contact.
    """

    answer_requested = QtCore.Signal(object)

    def __init__(
        self,
        view: QueueView,
        session: DeskSession,
        background: Background,
        notifier: Notifier,
        *,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(view)
        self.view = view
        self.session = session
        self.background = background
        self.notifier = notifier
        self.clock = clock
        self.records: dict[str, dict[str, Any]] = {}
        self.answered: set[str] = set()
        self._loaded_once = False
        self._loading: asyncio.Task[Any] | None = None
        self._again = False
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(lambda: self.view.tick(self.clock()))
        self.timer.start()
        view.answer_button.clicked.connect(self.answer_selected)
        view.table.itemDoubleClicked.connect(lambda _item: self.answer_selected())
        session.records_changed.connect(lambda _ids: self.refresh())

    def refresh(self) -> None:
        """Read the waiting contacts again and redraw. While a read is under way, changes
        that arrive only ask for one more read after it: a burst of calls is drawn a few
        times, not once per call."""
        if self._loading is not None and not self._loading.done():
            self._again = True
            return
        self._again = False
        store = self.session.store
        self._loading = self.background.run(
            self.session.runner.read(store.contacts_in_state, "ringing"),
            name="queue-load",
            success=self._loaded,
            failure=self._load_failed,
        )

    def _loaded(self, records: list[dict[str, Any]]) -> None:
        self._show(records)
        if self._again:
            self.refresh()

    def _load_failed(self, error: BaseException) -> None:
        self.background.report(error)
        if self._again:
            self.refresh()

    def _show(self, records: list[dict[str, Any]]) -> None:
        # A call whose hang-up never reached the desk does not ring for ever.
        oldest = self.clock() - STALE_AFTER_S
        # A read that began before the answer was saved must not bring the call back.
        records = [
            r for r in records if waiting(r).offered_at >= oldest and r["id"] not in self.answered
        ]
        fresh = [r for r in records if r["id"] not in self.records]
        self.records = {str(r["id"]): r for r in records}
        order = queue_order(waiting(r) for r in records)
        self.view.show_contacts(order, self.clock())
        if self._loaded_once and fresh:
            self._announce(fresh)
        self._loaded_once = True

    def _announce(self, fresh: list[dict[str, Any]]) -> None:
        first = queue_order(waiting(r) for r in fresh)[0]
        tier = "Tier A · critical" if first.tier == "A" else "Tier B"
        more = f" (and {len(fresh) - 1} more)" if len(fresh) > 1 else ""
        self.notifier.notify(
            f"New {CHANNELS[first.channel].lower()} contact",
            f"{first.caller} · {tier}{more}",
        )

    def forget(self, contact_id: str) -> None:
        """The contact was just answered here: it leaves the panel at once."""
        self.answered.add(contact_id)
        if self.records.pop(contact_id, None) is not None:
            order = queue_order(waiting(r) for r in self.records.values())
            self.view.show_contacts(order, self.clock())

    def unforget(self, contact_id: str) -> None:
        """Answering it failed: the call is back on the panel at the next refresh."""
        self.answered.discard(contact_id)
        self.refresh()

    def answer_selected(self) -> None:
        contact_id = self.view.selected_id()
        if contact_id is None and self.view.ids():
            contact_id = self.view.ids()[0]
        if contact_id is not None and contact_id in self.records:
            self.answer_requested.emit(self.records[contact_id])

    def stop(self) -> None:
        self.timer.stop()
