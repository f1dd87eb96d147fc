"""The hold board: every caller on hold, with a live timer and the check-back prompt.

The rules live in :class:`agentdesk.domain.hold.HoldBoard`; this module only draws its state
and forwards the agent's actions. A single-shot timer is set for the exact moment the next
prompt is due (so a prompt is never a second late because of a polling tick); a once-a-second
timer moves the clocks on screen, and a fast one flashes the rows that need a check-back.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from agentdesk.domain.hold import CHECK_BACK_LINE, HOLD_REASONS, Alert, HeldCall, HoldBoard
from ui.qt import Qt, QtCore, QtGui, QtWidgets
from ui.queue_panel import clock_text, row_table

Clock = Callable[[], float]
FLASH_MS = 500
PROMPT_COLOURS = ("#fef0c7", "#fffaeb")  # amber, flashing
ESCALATED_COLOURS = ("#fda29b", "#fee4e2")  # red, flashing
NEXT_COLOUR = "#d1e9ff"
COLUMNS = ("", "Caller", "Why on hold", "On hold", "Check back")


class HoldBoardView(QtWidgets.QWidget):
    """Held calls in serving order; the first is highlighted as the next to serve."""

    def __init__(self) -> None:
        super().__init__()
        title = QtWidgets.QLabel("On hold")
        title.setProperty("role", "section")
        self.summary = QtWidgets.QLabel("Nobody on hold")
        self.summary.setProperty("role", "subtle")
        self.table = row_table("hold-board", COLUMNS)
        self.prompt = QtWidgets.QLabel("")
        self.prompt.setObjectName("check-back-prompt")
        self.prompt.setWordWrap(True)
        self.prompt.setProperty("role", "notice")
        self.prompt.hide()
        self.check_button = QtWidgets.QPushButton("Checked back")
        self.check_button.setToolTip(
            "You spoke to the caller, who keeps holding: the timer starts again (Ctrl+K)"
        )
        self.resume_button = QtWidgets.QPushButton("Resume")
        self.resume_button.setProperty("role", "primary")
        self.resume_button.setToolTip("Take the selected caller off hold (Ctrl+R)")
        self.next_button = QtWidgets.QPushButton("Next held")
        self.next_button.setToolTip("Select the caller to serve next (Ctrl+J)")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.summary)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.prompt)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.next_button)
        buttons.addStretch(1)
        buttons.addWidget(self.check_button)
        buttons.addWidget(self.resume_button)
        layout.addLayout(buttons)
        self._ids: list[str] = []
        self._cells: list[list[QtWidgets.QTableWidgetItem]] = []
        self._flash_on = False
        self.show_calls([], [], 0.0, 30.0)

    def show_calls(
        self, held: list[HeldCall], alerts: list[Alert], now: float, interval: float
    ) -> None:
        selected = self.selected_id()
        if [c.contact_id for c in held] != self._ids:
            self._ids = [c.contact_id for c in held]
            self._cells = []
            self.table.setRowCount(len(held))
            for row, _call in enumerate(held):
                cells = [QtWidgets.QTableWidgetItem("") for _ in COLUMNS]
                for column, cell in enumerate(cells):
                    self.table.setItem(row, column, cell)
                self._cells.append(cells)
            # Keep the agent's choice; do not select on their behalf (a selection would hide
            # the colours that say who needs a check-back).
            if selected in self._ids:
                self.table.selectRow(self._ids.index(selected))
            else:
                self.table.clearSelection()
        by_id = {a.contact_id: a for a in alerts}
        for row, call in enumerate(held):
            cells = self._cells[row]
            cells[0].setText("Next" if row == 0 else str(row + 1))
            cells[1].setText(call.caller)
            cells[2].setText(call.reason.replace("-", " "))
            cells[2].setToolTip(HOLD_REASONS[call.reason])
            cells[3].setText(clock_text(now - call.held_at))
            alert = by_id.get(call.contact_id)
            if alert is None:
                due_in = call.last_check_at + interval - now
                cells[4].setText(f"in {clock_text(max(0.0, due_in))}")
            elif alert.escalated:
                cells[4].setText(f"overdue {clock_text(alert.overdue_s)}")
            else:
                cells[4].setText("now")
            self._colour(row, call, alert)
        count = len(held)
        self.summary.setText(f"{count} on hold" if count else "Nobody on hold")
        self.check_button.setEnabled(bool(held))
        self.resume_button.setEnabled(bool(held))
        self.next_button.setEnabled(bool(held))
        if alerts:
            first = alerts[0]
            name = next(c.caller for c in held if c.contact_id == first.contact_id)
            escalated = any(a.escalated for a in alerts)
            self.prompt.setText(
                ("Overdue — " if escalated else "Check back now — ")
                + f"{name}: “{CHECK_BACK_LINE}”"
            )
            self.prompt.show()
        else:
            self.prompt.hide()

    def _colour(self, row: int, call: HeldCall, alert: Alert | None) -> None:
        if alert is not None:
            pair = ESCALATED_COLOURS if alert.escalated else PROMPT_COLOURS
            colour: str | None = pair[0] if self._flash_on else pair[1]
            state = "escalated" if alert.escalated else "prompt"
        else:
            colour = NEXT_COLOUR if row == 0 else None
            state = "next" if row == 0 else "waiting"
        for cell in self._cells[row]:
            cell.setData(Qt.ItemDataRole.UserRole, state)
            if colour is None:
                cell.setBackground(QtGui.QBrush())  # the table's own colour
            else:
                cell.setBackground(QtGui.QBrush(QtGui.QColor(colour)))
        font = self._cells[row][1].font()
        font.setBold(row == 0)
        self._cells[row][1].setFont(font)

    def flash(self) -> None:
        self._flash_on = not self._flash_on

    def selected_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self._ids):
            return None
        return self._ids[rows[0].row()]

    def select(self, contact_id: str) -> None:
        if contact_id in self._ids:
            self.table.selectRow(self._ids.index(contact_id))

    def ids(self) -> list[str]:
        return list(self._ids)

    def state_of(self, contact_id: str) -> str:
        row = self._ids.index(contact_id)
        return str(self._cells[row][1].data(Qt.ItemDataRole.UserRole))


class HoldTimers(QtCore.QObject):
    """Drives a :class:`HoldBoardView` from a :class:`HoldBoard`, and tells when a prompt or
    an escalation comes due.

    Signals:
        alerted(object): an :class:`Alert` just came due (a prompt, or an escalation).
    """

    alerted = QtCore.Signal(object)

    def __init__(self, board: HoldBoard, view: HoldBoardView) -> None:
        super().__init__(view)
        self.board = board
        self.view = view
        self.clock: Clock = board.clock
        self._announced: dict[str, int] = {}
        #: How late each prompt fired, in seconds (read by the benchmark).
        self.lateness: list[float] = []
        self.due = QtCore.QTimer(self)
        self.due.setSingleShot(True)
        self.due.setTimerType(Qt.TimerType.PreciseTimer)
        self.due.timeout.connect(self._fire)
        self.tick = QtCore.QTimer(self)
        self.tick.setInterval(1000)
        self.tick.timeout.connect(self.refresh)
        self.tick.start()
        self.flasher = QtCore.QTimer(self)
        self.flasher.setInterval(FLASH_MS)
        self.flasher.timeout.connect(self._flash)

    def refresh(self) -> None:
        """Redraw and set the single-shot timer for the next prompt or escalation."""
        alerts = self.board.alerts()
        self.view.show_calls(self.board.held(), alerts, self.clock(), self.board.interval)
        if alerts and not self.flasher.isActive():
            self.flasher.start()
        elif not alerts:
            self.flasher.stop()
        held_ids = {c.contact_id for c in self.board.held()}
        for gone in set(self._announced) - held_ids:
            del self._announced[gone]
        alerting = {a.contact_id for a in alerts}
        for checked in [cid for cid in self._announced if cid not in alerting]:
            # Checked back: the next prompt is a new one, with its sound.
            del self._announced[checked]
        for alert in alerts:
            if alert.level > self._announced.get(alert.contact_id, 0):
                self._announced[alert.contact_id] = alert.level
                self.alerted.emit(alert)
        self._schedule()

    def _schedule(self) -> None:
        at = self.board.next_alert_at()
        if at is None:
            self.due.stop()
            return
        self._due_at = at
        self.due.start(max(0, int((at - self.clock()) * 1000) + 1))

    def _fire(self) -> None:
        at = getattr(self, "_due_at", None)
        if at is not None:
            self.lateness.append(max(0.0, self.clock() - at))
        self.refresh()

    def _flash(self) -> None:
        self.view.flash()
        self.view.show_calls(
            self.board.held(), self.board.alerts(), self.clock(), self.board.interval
        )

    def stop(self) -> None:
        for timer in (self.due, self.tick, self.flasher):
            timer.stop()


def default_clock() -> float:
    return time.monotonic()
