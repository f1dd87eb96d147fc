"""The inbox: messages for this agent (or their team) and their open promises, and for
supervisors the list of everything overdue.

A message arrives with a sound and a notification; the unread counter follows what is new.
Open messages are listed overdue first, then by urgency and callback time; a message moves
new → acknowledged → called back, or is handed on to someone else, and its history shows
every step. A callback or a promise whose time has passed turns red, and is escalated.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

from agentdesk.domain.contacts import Actor
from agentdesk.domain.errors import ValidationFailed
from agentdesk.domain.messages import (
    STATES,
    URGENCIES,
    Escalation,
    callback_due,
    inbox_order,
    is_overdue,
    is_recipient,
    unread_count,
    wall_time,
    window_text,
)
from agentdesk.sync.client import Offline, ServerTrouble
from agentdesk.wire import Directory
from ui.background import Background
from ui.desk_session import DeskSession
from ui.message_form import desk_zone_name
from ui.notifier import Notifier
from ui.qt import Qt, QtCore, QtGui, QtWidgets
from ui.queue_panel import row_table

Clock = Callable[[], dt.datetime]
COLUMNS = ("Urgency", "Caller", "Call back (your time)", "State")
REFRESH_MS = 30_000
OVERDUE = QtGui.QColor("#fde2e1")
OVERDUE_TEXT = QtGui.QColor("#912018")


async def load_directory(session: DeskSession) -> Directory | None:
    """Colleagues and teams; the last list fetched is kept for taking messages offline."""
    store = session.store
    try:
        directory = await session.client.directory()
    except (Offline, ServerTrouble):
        cached = await session.runner.read(store.meta, "directory")
        return Directory.model_validate(json.loads(cached)) if cached else None
    await session.runner.write(store.set_meta, "directory", directory.model_dump_json())
    return directory


def _caller(record: dict[str, Any]) -> str:
    return f"{record['first_name']} {record['last_name']} · {record['organisation']}"


class InboxView(QtWidgets.QWidget):
    """Widgets only; the controller fills them."""

    def __init__(self) -> None:
        super().__init__()
        self.summary = QtWidgets.QLabel("No messages")
        self.summary.setProperty("role", "subtle")
        self.scope = QtWidgets.QComboBox()
        self.scope.setObjectName("inbox-scope")
        self.scope.addItem("For me", "mine")
        self.scope.addItem("Taken by me", "taken")
        self.table = row_table("inbox", COLUMNS)
        self.detail = QtWidgets.QTextBrowser()
        self.detail.setObjectName("message-detail")
        self.error = QtWidgets.QLabel("")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.acknowledge_button = QtWidgets.QPushButton("Acknowledge")
        self.called_back_button = QtWidgets.QPushButton("Called back…")
        self.called_back_button.setProperty("role", "primary")
        self.hand_on_button = QtWidgets.QPushButton("Hand on…")
        self.resend_button = QtWidgets.QPushButton("Correct and send again…")
        self.resend_button.setToolTip("The server refused it: open it in the form to correct")
        self.resend_button.hide()
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.resend_button)
        buttons.addWidget(self.acknowledge_button)
        buttons.addWidget(self.hand_on_button)
        buttons.addStretch(1)
        buttons.addWidget(self.called_back_button)
        self.promises = QtWidgets.QListWidget()
        self.promises.setObjectName("my-promises")
        self.promises.setMaximumHeight(90)
        self.promises.setWordWrap(True)
        self.kept_button = QtWidgets.QPushButton("Kept")
        self.kept_button.setToolTip("The promise is done: it leaves the list")
        promise_row = QtWidgets.QHBoxLayout()
        promise_label = QtWidgets.QLabel("My open promises")
        promise_label.setProperty("role", "subtle")
        promise_row.addWidget(promise_label, 1)
        promise_row.addWidget(self.kept_button)

        # The message itself opens in the middle of the window, where there is room to read.
        self.detail_panel = QtWidgets.QWidget()
        self.detail_panel.setObjectName("message-panel")
        detail_layout = QtWidgets.QVBoxLayout(self.detail_panel)
        detail_title = QtWidgets.QLabel("Message")
        detail_title.setProperty("role", "section")
        detail_layout.addWidget(detail_title)
        detail_layout.addWidget(self.detail, 1)
        detail_layout.addWidget(self.error)
        detail_layout.addLayout(buttons)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.scope)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(promise_row)
        layout.addWidget(self.promises)

    def ids(self) -> list[str]:
        found = []
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None:
                found.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return found

    def overdue_rows(self) -> list[int]:
        rows = []
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.background().color() == OVERDUE:
                rows.append(row)
        return rows


class InboxController(QtCore.QObject):
    """Fills the inbox from the local store and turns clicks into message steps.

    Signals:
        unread_changed(int): how many messages for this user are new.
        message_taken(str): a contact whose caller left a message (for the script).
    """

    unread_changed = QtCore.Signal(int)
    opened = QtCore.Signal(str)
    resend_requested = QtCore.Signal(dict)

    def __init__(
        self,
        view: InboxView,
        session: DeskSession,
        background: Background,
        notifier: Notifier,
        *,
        clock: Clock | None = None,
        zone: str | None = None,
    ) -> None:
        super().__init__(view)
        self.view = view
        self.session = session
        self.background = background
        self.notifier = notifier
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.zone = zone or desk_zone_name()
        self.records: dict[str, dict[str, Any]] = {}
        self.promises: list[dict[str, Any]] = []
        self.unread = 0
        self._known: set[str] | None = None
        self._escalated: set[str] = set()
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        view.table.itemSelectionChanged.connect(self._show_selected)
        view.table.itemClicked.connect(lambda _item: self._open())
        view.table.itemActivated.connect(lambda _item: self._open())
        view.acknowledge_button.clicked.connect(self.acknowledge)
        view.called_back_button.clicked.connect(self.ask_called_back)
        view.hand_on_button.clicked.connect(self.ask_hand_on)
        view.kept_button.clicked.connect(self.keep_promise)
        view.resend_button.clicked.connect(self._resend)
        view.scope.currentIndexChanged.connect(self.refresh)
        session.records_changed.connect(lambda _ids: self.refresh())
        self.refresh()

    @property
    def actor(self) -> Actor:
        return self.session.actor

    def stop(self) -> None:
        self._timer.stop()

    def refresh(self) -> None:
        store, user = self.session.store, self.session.user

        taken = self.view.scope.currentData() == "taken"

        async def load() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            if taken:
                found = await self.session.runner.read(store.messages_taken_by, user.username)
            else:
                found = await self.session.runner.read(
                    store.messages_for, user.username, user.department or ""
                )
            promises = await self.session.runner.read(store.open_promises_of, user.id)
            return found, promises

        self.background.run(load(), name="inbox", success=lambda found: self.show(*found))

    def show(self, messages: list[dict[str, Any]], promises: list[dict[str, Any]]) -> None:
        now = self.clock()
        actor = self.actor
        ordered = inbox_order(messages, now)
        selected = self.selected_id()
        self.records = {str(r["id"]): r for r in ordered}
        table = self.view.table
        table.setRowCount(len(ordered))
        for row, record in enumerate(ordered):
            overdue = is_overdue(record, now)
            state = STATES.get(str(record.get("state")), str(record.get("state")))
            if record.get("refused"):
                state = "Refused"
            elif record.get("unsent"):
                state = "Not sent yet"
            elif overdue:
                state = "Overdue"
            elif callback_due(record, now):
                state = f"{state} · call now"
            after = dt.datetime.fromisoformat(str(record["callback_after"]))
            before = dt.datetime.fromisoformat(str(record["callback_before"]))
            cells = (
                URGENCIES.get(str(record.get("urgency")), ""),
                f"{record['first_name']} {record['last_name']}",
                _short_window(after, before, self.zone),
                state,
            )
            new = record.get("state") == "new" and actor is not None and is_recipient(record, actor)
            for column, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, record["id"])
                if overdue:
                    item.setBackground(OVERDUE)
                    item.setForeground(OVERDUE_TEXT)
                if new:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                table.setItem(row, column, item)
        if selected in self.records:
            table.selectRow(list(self.records).index(selected))
        elif ordered:
            table.selectRow(0)
        else:
            self.view.detail.setHtml("<p>No messages for you.</p>")
        self._show_promises(promises, now)
        unread = unread_count(ordered, actor) if actor is not None else 0
        overdue_count = sum(1 for r in ordered if is_overdue(r, now))
        parts = [f"{unread} new" if unread else "nothing new"]
        if overdue_count:
            parts.append(f"{overdue_count} overdue")
        self.view.summary.setText(" · ".join(parts))
        self._announce(ordered, now)
        if unread != self.unread:
            self.unread = unread
        self.unread_changed.emit(unread)

    def _announce(self, ordered: list[dict[str, Any]], now: dt.datetime) -> None:
        """A sound and a notification for each message that has just arrived for this user,
        and once for each callback that has just become overdue."""
        actor = self.actor
        fresh = {
            str(r["id"])
            for r in ordered
            if r.get("state") == "new"
            and actor is not None
            and is_recipient(r, actor)
            and r.get("taken_by") != actor.username
        }
        if self._known is not None:
            for message_id in sorted(fresh - self._known):
                record = self.records[message_id]
                urgent = record.get("urgency") in ("urgent", "high")
                self.notifier.notify(
                    "New message",
                    f"{_caller(record)}: {record['message'][:120]}",
                    loud=urgent,
                )
        first_look = self._known is None
        self._known = (self._known or set()) | fresh
        overdue = [
            r
            for r in ordered
            if is_overdue(r, now)
            and actor is not None
            and is_recipient(r, actor)
            and str(r["id"]) not in self._escalated
        ]
        self._escalated |= {str(r["id"]) for r in overdue}
        if first_look and len(overdue) > 1:
            # Signing in with several overdue: one reminder, not a ring for each.
            self.notifier.notify("Callbacks overdue", f"{len(overdue)} callbacks are overdue")
            return
        for record in overdue:
            self.notifier.notify(
                "Callback overdue",
                f"Call back {record['first_name']} {record['last_name']} now: "
                f"{record.get('phone_display') or record['phone']}",
                loud=not first_look,
            )

    def _show_promises(self, promises: list[dict[str, Any]], now: dt.datetime) -> None:
        self.promises = promises
        view = self.view.promises
        view.clear()
        for promise in promises:
            due = dt.datetime.fromisoformat(str(promise["due_at"]))
            late = due < now
            flag = "OVERDUE · " if late else ""
            item = QtWidgets.QListWidgetItem(
                f"{flag}by {due.astimezone():%d %b %H:%M}: {promise['text']}"
            )
            item.setData(Qt.ItemDataRole.UserRole, (promise["contact_id"], promise["id"]))
            if late:
                item.setBackground(OVERDUE)
                item.setForeground(OVERDUE_TEXT)
            view.addItem(item)
        if not promises:
            view.addItem("None open")
        self.view.kept_button.setEnabled(bool(promises))

    def selected_id(self) -> str | None:
        rows = self.view.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.view.table.item(rows[0].row(), 0)
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def select(self, message_id: str) -> None:
        """Select a message and open it in the middle of the window."""
        if message_id in self.records:
            self.view.table.selectRow(list(self.records).index(message_id))
            self.opened.emit(message_id)

    def _open(self) -> None:
        message_id = self.selected_id()
        if message_id is not None:
            self.opened.emit(message_id)

    def _show_selected(self) -> None:
        message_id = self.selected_id()
        record = self.records.get(message_id or "")
        self.view.error.hide()
        if record is None:
            return
        self.view.detail.setHtml(describe(record, self.zone, self.clock()))
        state = record.get("state")
        actor = self.actor
        mine = is_recipient(record, actor) or actor.supervisor
        refused = bool(record.get("refused"))
        self.view.acknowledge_button.setEnabled(mine and state == "new" and not refused)
        self.view.called_back_button.setEnabled(mine and state != "called_back" and not refused)
        self.view.hand_on_button.setEnabled(mine and state != "called_back" and not refused)
        self.view.resend_button.setVisible(refused)
        if refused or record.get("unsent"):
            self._show_refusals(str(record["id"]))

    def _show_refusals(self, message_id: str) -> None:
        store = self.session.store

        def show(issues: list[Any]) -> None:
            if not issues or self.selected_id() != message_id:
                return
            reasons = "; ".join(
                f"{field}: {text}" for issue in issues for field, text in issue.errors
            )
            self.view.error.setText(f"The server refused this message: {reasons}")
            self.view.error.show()

        self.background.run(
            self.session.runner.read(store.message_refusals, message_id), success=show
        )

    def _resend(self) -> None:
        record = self.records.get(self.selected_id() or "")
        if record is not None:
            self.resend_requested.emit(record)

    # --- steps ------------------------------------------------------------------------------

    def _step(self, op: str, fields: dict[str, Any], message_id: str | None = None) -> None:
        """One step on a message (the one selected when the agent clicked), kept on the desk
        first, with the time it was done."""
        message_id = message_id or self.selected_id()
        if message_id is None:
            return
        step = {"step_id": str(uuid.uuid4()), "at": self.clock().isoformat(), **fields}
        write = self.session.runner.write(self.session.store.record_message, message_id, op, step)

        def done(_record: dict[str, Any]) -> None:
            self.session.wake_sync()
            self.refresh()

        self.background.run(write, success=done, failure=self._refused)

    def _refused(self, error: BaseException) -> None:
        if isinstance(error, ValidationFailed):
            self.view.error.setText("; ".join(str(e) for e in error.errors))
            self.view.error.show()
            return
        self.background.report(error)

    def acknowledge(self) -> None:
        self._step("acknowledge", {})

    def ask_called_back(self) -> None:
        message_id = self.selected_id()
        if message_id is None:
            return
        outcome, ok = QtWidgets.QInputDialog.getMultiLineText(
            self.view.window(), "Called back", "What came of the call?"
        )
        if ok:
            self.called_back(outcome, message_id)

    def called_back(self, outcome: str, message_id: str | None = None) -> None:
        self._step("called_back", {"outcome": outcome}, message_id)

    def ask_hand_on(self) -> None:
        message_id = self.selected_id()
        if message_id is None:
            return

        def show(directory: Directory | None) -> None:
            dialog = HandOnDialog(self.view.window(), directory, me=self.session.user.username)
            dialog.accepted.connect(lambda: self.hand_on(dialog.fields(), message_id))
            dialog.open()
            self._dialog = dialog

        self.background.run(load_directory(self.session), name="directory", success=show)

    def hand_on(self, fields: dict[str, Any], message_id: str | None = None) -> None:
        self._step("hand_on", fields, message_id)

    def keep_promise(self) -> None:
        item = self.view.promises.currentItem()
        data = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if not data:
            return
        contact_id, promise_id = data
        write = self.session.runner.write(
            self.session.store.record_contact,
            contact_id,
            "keep_promise",
            {"promise_id": promise_id, "at": self.clock().isoformat()},
        )

        def done(_record: dict[str, Any]) -> None:
            self.session.wake_sync()
            self.refresh()

        self.background.run(write, success=done, failure=self._refused)


def describe(record: dict[str, Any], zone: str, now: dt.datetime) -> str:
    """A message in full, with the window in the caller's time and in this desk's."""
    after = dt.datetime.fromisoformat(str(record["callback_after"]))
    before = dt.datetime.fromisoformat(str(record["callback_before"]))
    caller_zone = str(record["caller_timezone"])
    esc = _escape
    overdue = is_overdue(record, now)
    lines = [
        f"<h3>{esc(record['first_name'])} {esc(record['last_name'])}</h3>",
        f"<p>{esc(record['organisation'])} · <b>{esc(record.get('phone_display') or '')}</b></p>",
        f"<p style='white-space: pre-wrap'>{esc(record['message'])}</p>",
        "<p>Call back: "
        f"<b>{esc(window_text(after, before, zone))}</b> your time<br>"
        f"{esc(window_text(after, before, caller_zone))} the caller's time ({esc(caller_zone)})"
        "</p>",
    ]
    if overdue:
        lines.append(
            f"<p style='color: {OVERDUE_TEXT.name()}'><b>Overdue:</b> the window closed "
            f"{before.astimezone():%d %b %H:%M}. Call back now.</p>"
        )
    urgency = URGENCIES.get(str(record.get("urgency")), "")
    lines.append(
        f"<p>Urgency {esc(urgency)} · for {esc(record.get('for_name') or '')} · taken by "
        f"{esc(record.get('taken_by_name') or '')} "
        f"{dt.datetime.fromisoformat(str(record['taken_at'])).astimezone():%d %b %H:%M}</p>"
    )
    if record.get("unsent"):
        lines.append("<p><i>Kept on this desk; it is sent when the server can be reached.</i></p>")
    history = []
    for entry in record.get("history") or []:
        at = dt.datetime.fromisoformat(str(entry["at"])).astimezone()
        history.append(f"<li>{at:%d %b %H:%M} {esc(entry.get('by', ''))} {esc(_did(entry))}</li>")
    lines.append(f"<p>History</p><ul>{''.join(history)}</ul>")
    return "".join(lines)


def _short_window(after: dt.datetime, before: dt.datetime, zone: str) -> str:
    """The window in this desk's time, short enough for the list: "24 Nov 15:00–17:00"."""
    start, end = wall_time(after, zone), wall_time(before, zone)
    if start.date() == end.date():
        return f"{start:%d %b %H:%M}–{end:%H:%M}"
    return f"{start:%d %b %H:%M}–{end:%d %b %H:%M}"


def _did(entry: dict[str, Any]) -> str:
    """One step of a message's history, said as what the person did."""
    what = str(entry.get("what"))
    if what == "taken":
        text = f"took the message for {entry.get('to')}"
    elif what == "handed on":
        text = f"handed it on to {entry.get('to')}"
    elif what == "called back":
        text = f"called back: {entry.get('outcome')}"
    else:
        text = what
    if entry.get("note"):
        text += f" ({entry['note']})"
    return text


def _escape(value: object) -> str:
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class HandOnDialog(QtWidgets.QDialog):
    """Whom to hand a message on to, and why."""

    def __init__(
        self, parent: QtWidgets.QWidget | None, directory: Directory | None, *, me: str
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Hand the message on")
        self.target = QtWidgets.QComboBox()
        self.target.addItem("Choose a colleague or team…", None)
        self.names: dict[str, str] = {}
        if directory is not None:
            for user in directory.users:
                if user.username != me:
                    self.names[user.username] = user.full_name
                    self.target.addItem(user.full_name, f"user:{user.username}")
            for team in directory.teams:
                self.target.addItem(f"Team: {team}", f"team:{team}")
        self.note = QtWidgets.QLineEdit()
        self.note.setPlaceholderText("Why them (kept in the history)")
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QtWidgets.QFormLayout(self)
        form.addRow("To", self.target)
        form.addRow("Note", self.note)
        form.addRow(buttons)

    def fields(self) -> dict[str, Any]:
        chosen = self.target.currentData()
        found: dict[str, Any] = {"note": self.note.text()}
        if chosen:
            kind, name = str(chosen).split(":", 1)
            if kind == "user":
                found.update(to_user=name, to_name=self.names.get(name, name))
            else:
                found.update(to_team=name)
        return found


class EscalationView(QtWidgets.QWidget):
    """For supervisors: every callback and promise past its time, the longest late first."""

    def __init__(self) -> None:
        super().__init__()
        self.summary = QtWidgets.QLabel("Nothing is overdue")
        self.summary.setProperty("role", "subtle")
        self.table = row_table("escalations", ("Late", "What", "Owner", "Was due"))
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)

    def show_escalations(self, found: list[Escalation]) -> None:
        self.table.setRowCount(len(found))
        for row, item in enumerate(found):
            kind = "Callback" if item.kind == "callback" else "Promise"
            cells = (
                _late_text(item.late_s),
                f"{kind}: {item.what}",
                item.owner,
                f"{item.due_at.astimezone():%d %b %H:%M}",
            )
            for column, text in enumerate(cells):
                cell = QtWidgets.QTableWidgetItem(text)
                cell.setData(Qt.ItemDataRole.UserRole, item.id)
                cell.setForeground(OVERDUE_TEXT)
                self.table.setItem(row, column, cell)
        self.summary.setText(f"{len(found)} overdue" if found else "Nothing is overdue")


def _late_text(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {rest:02d} min"
    return f"{hours // 24} days"


class EscalationController(QtCore.QObject):
    """Keeps the supervisors' overdue list current from what the desk holds."""

    changed = QtCore.Signal(int)

    def __init__(
        self,
        view: EscalationView,
        session: DeskSession,
        background: Background,
        *,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(view)
        self.view = view
        self.session = session
        self.background = background
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.found: list[Escalation] = []
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        session.records_changed.connect(lambda _ids: self.refresh())
        self.refresh()

    def stop(self) -> None:
        self._timer.stop()

    def refresh(self) -> None:
        store = self.session.store

        async def load() -> list[Escalation]:
            found: list[Escalation] = await self.session.runner.read(
                store.escalations, self.clock()
            )
            return found

        def show(found: list[Escalation]) -> None:
            self.found = found
            self.view.show_escalations(found)
            self.changed.emit(len(found))

        self.background.run(load(), name="escalations", success=show)
