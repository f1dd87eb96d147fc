"""The contact in hand: screen pop, notes, promises, and wrap-up with after-call work.

Answering a waiting contact records the answer locally first, then pops the caller's sheet:
the sheet itself for a known number, a short pick list when several customers share the
number, a new sheet with the number filled in for an unknown caller. The pane beside the
sheet shows the caller's open promises and recent contacts, takes append-only notes and
promises with a concrete due time, and closes the contact with a category and an outcome
while the after-call-work timer runs.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from typing import Any

from agentdesk.domain.contacts import CATEGORIES, CHANNELS, OUTCOMES, open_promises
from agentdesk.domain.customers import Customer, format_phone
from agentdesk.domain.errors import FieldError, ValidationFailed
from agentdesk.store.local import OutboxIssue
from ui import theme
from ui.background import Background
from ui.coach_edit import CoachedEdit
from ui.desk_session import DeskSession
from ui.notifier import Notifier
from ui.qt import Qt, QtCore, QtWidgets
from ui.queue_panel import caller_text, clock_text

Clock = Callable[[], float]
#: Open promises, recent contacts, refused steps, and the customer's language.
ContextLoad = tuple[list[dict[str, Any]], list[dict[str, Any]], list[OutboxIssue], str]
REMINDER_CHECK_MS = 20_000
#: Channels answered in writing, where the pane offers a reply box.
WRITTEN = ("email", "im")


def local_time(value: str | None, *, with_date: bool = False) -> str:
    if not value:
        return ""
    moment = dt.datetime.fromisoformat(value).astimezone()
    return moment.strftime("%d %b %Y %H:%M" if with_date else "%H:%M")


def _since(value: str | None, now: float) -> float:
    if not value:
        return 0.0
    return max(0.0, now - dt.datetime.fromisoformat(value).timestamp())


class ContactPane(QtWidgets.QWidget):
    """What the agent sees of the contact in hand. Widgets only; the controller decides."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("contact-pane")
        self.caller = QtWidgets.QLabel("No contact in hand")
        self.caller.setProperty("role", "heading")
        self.caller.setWordWrap(True)
        self.badge = QtWidgets.QLabel("")
        self.details = QtWidgets.QLabel("")
        self.details.setProperty("role", "subtle")
        self.details.setWordWrap(True)
        self.timer_label = QtWidgets.QLabel("")
        self.timer_label.setObjectName("contact-timer")
        # Hold asks for the reason in the same click: the menu offers the words to say.
        self.hold_button = QtWidgets.QToolButton()
        self.hold_button.setText("Hold")
        self.hold_button.setToolTip("Put the caller on hold, saying why (Ctrl+H)")
        self.hold_button.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.InstantPopup)
        self.hold_menu = QtWidgets.QMenu(self.hold_button)
        self.hold_button.setMenu(self.hold_menu)
        self.transfer_button = QtWidgets.QPushButton("Transfer…")
        self.transfer_button.setToolTip("Hand the call to a colleague or a team (Ctrl+T)")
        self.message_button = QtWidgets.QPushButton("Message…")
        self.message_button.setToolTip("Take a message for a colleague (Ctrl+M)")
        # The timer has a line of its own so the buttons fit a narrow pane.
        call_row = QtWidgets.QHBoxLayout()
        call_row.addStretch(1)
        call_row.addWidget(self.hold_button)
        call_row.addWidget(self.transfer_button)
        call_row.addWidget(self.message_button)

        self.refusal = QtWidgets.QLabel("")
        self.refusal.setProperty("role", "notice")
        self.refusal.setWordWrap(True)
        self.dismiss_button = QtWidgets.QPushButton("Dismiss")
        refusal_box = QtWidgets.QHBoxLayout()
        refusal_box.addWidget(self.refusal, 1)
        refusal_box.addWidget(self.dismiss_button)
        self.refusal_frame = QtWidgets.QWidget()
        self.refusal_frame.setLayout(refusal_box)
        self.refusal_frame.hide()

        # Who is calling, when the number alone does not tell.
        self.pick_box = QtWidgets.QGroupBox("Which customer is calling?")
        self.candidates = _compact_list("candidates", 110)
        self.pick_button = QtWidgets.QPushButton("This is the caller")
        self.pick_button.setProperty("role", "primary")
        self.create_button = QtWidgets.QPushButton("New sheet for this caller")
        pick_layout = QtWidgets.QVBoxLayout(self.pick_box)
        pick_layout.addWidget(self.candidates)
        pick_layout.addWidget(self.pick_button)
        pick_layout.addWidget(self.create_button)

        self.promises = _compact_list("open-promises", 76)
        self.recent = _compact_list("recent-contacts", 96)
        customer_box = QtWidgets.QGroupBox("This customer")
        customer_layout = QtWidgets.QVBoxLayout(customer_box)
        customer_layout.addWidget(QtWidgets.QLabel("Open promises"))
        customer_layout.addWidget(self.promises)
        customer_layout.addWidget(QtWidgets.QLabel("Recent contacts"))
        customer_layout.addWidget(self.recent)
        self.customer_box = customer_box

        self.notes = _compact_list("notes", 120)
        self.note_text = QtWidgets.QPlainTextEdit()
        self.note_text.setObjectName("note-text")
        self.note_text.setPlaceholderText("What the caller said, what you did (notes are kept)")
        self.note_coach = CoachedEdit(self.note_text)
        self.note_coach.time_requested.connect(self.ask_for_time)
        self.note_text.setFixedHeight(60)
        self.note_error = _error_label()
        self.note_button = QtWidgets.QPushButton("Add note")
        notes_box = QtWidgets.QGroupBox("Notes")
        self.notes_box = notes_box
        notes_layout = QtWidgets.QVBoxLayout(notes_box)
        notes_layout.addWidget(self.notes)
        notes_layout.addWidget(self.note_text)
        notes_layout.addWidget(self.note_error)
        notes_layout.addWidget(self.note_button, 0, Qt.AlignmentFlag.AlignRight)

        # E-mail and IM contacts are answered in writing: the reply is drafted here, under the
        # coach, copied into the mail or chat client, and recorded on the contact as sent.
        self.reply_text = QtWidgets.QPlainTextEdit()
        self.reply_text.setObjectName("reply-text")
        self.reply_text.setPlaceholderText("Your reply to the customer (e-mail or chat)")
        self.reply_coach = CoachedEdit(self.reply_text)
        self.reply_coach.time_requested.connect(self.ask_for_time)
        self.reply_text.setFixedHeight(90)
        self.reply_error = _error_label()
        self.reply_copy_button = QtWidgets.QPushButton("Copy")
        self.reply_copy_button.setToolTip("Copy the reply, to paste into the mail or chat window")
        self.reply_button = QtWidgets.QPushButton("Record as sent")
        self.reply_button.setToolTip("Keep the reply on the contact record")
        reply_box = QtWidgets.QGroupBox("Reply to the customer")
        self.reply_box = reply_box
        reply_layout = QtWidgets.QVBoxLayout(reply_box)
        reply_layout.addWidget(self.reply_text)
        reply_layout.addWidget(self.reply_error)
        reply_buttons = QtWidgets.QHBoxLayout()
        reply_buttons.addStretch(1)
        reply_buttons.addWidget(self.reply_copy_button)
        reply_buttons.addWidget(self.reply_button)
        reply_layout.addLayout(reply_buttons)

        self.promise_text = QtWidgets.QLineEdit()
        self.promise_text.setPlaceholderText("What will happen, e.g. “an engineer calls you back”")
        self.promise_due = QtWidgets.QDateTimeEdit()
        self.promise_due.setCalendarPopup(True)
        self.promise_due.setDisplayFormat("dd MMM yyyy HH:mm")
        self.promise_error = _error_label()
        self.promise_button = QtWidgets.QPushButton("Promise")
        promise_box = QtWidgets.QGroupBox("Promise to the customer")
        self.promise_box = promise_box
        promise_layout = QtWidgets.QFormLayout(promise_box)
        promise_layout.addRow("What", self.promise_text)
        promise_layout.addRow("By", self.promise_due)
        promise_layout.addRow(self.promise_error)
        promise_layout.addRow(self.promise_button)

        self.category = QtWidgets.QComboBox()
        self.category.addItem("Choose…", "")
        for name in CATEGORIES:
            self.category.addItem(name.capitalize(), name)
        self.outcome = QtWidgets.QComboBox()
        self.outcome.addItem("Choose…", "")
        for key, label in OUTCOMES.items():
            self.outcome.addItem(label, key)
        self.handed_to = QtWidgets.QLineEdit()
        self.handed_to.setPlaceholderText("Person or team, by name")
        self.wrap_error = _error_label()
        self.end_button = QtWidgets.QPushButton("End call")
        self.wrap_button = QtWidgets.QPushButton("Wrap up")
        self.wrap_button.setProperty("role", "primary")
        wrap_box = QtWidgets.QGroupBox("Wrap-up")
        wrap_layout = QtWidgets.QFormLayout(wrap_box)
        wrap_layout.addRow("Category", self.category)
        wrap_layout.addRow("Outcome", self.outcome)
        wrap_layout.addRow("Handed to", self.handed_to)
        wrap_layout.addRow(self.wrap_error)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.end_button)
        buttons.addStretch(1)
        buttons.addWidget(self.wrap_button)
        wrap_layout.addRow(buttons)
        self.wrap_box = wrap_box

        inner = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(inner)
        header = QtWidgets.QHBoxLayout()
        header.addWidget(self.caller, 1)
        header.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(header)
        layout.addWidget(self.details)
        layout.addWidget(self.timer_label)
        layout.addLayout(call_row)
        layout.addWidget(self.refusal_frame)
        layout.addWidget(self.pick_box)
        layout.addWidget(customer_box)
        layout.addWidget(notes_box)
        layout.addWidget(reply_box)
        layout.addWidget(promise_box)
        layout.addWidget(wrap_box)
        layout.addStretch(1)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setWidget(inner)
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.show_contact(None)

    def show_contact(self, record: dict[str, Any] | None) -> None:
        # With nothing in hand, only the hint shows: no empty boxes to read past.
        for box in (self.wrap_box, self.notes_box, self.promise_box):
            box.setVisible(record is not None)
        self.reply_box.setVisible(record is not None and record.get("channel") in WRITTEN)
        self.customer_box.setVisible(record is not None and bool(record.get("customer_id")))
        # Nobody waits on hold for an e-mail: hold is for those who are on the line.
        self.hold_button.setVisible(record is not None and record.get("channel") not in WRITTEN)
        self.transfer_button.setVisible(record is not None)
        self.message_button.setVisible(record is not None)
        if record is None:
            self.caller.setText("No contact in hand")
            self.badge.setText("")
            self.details.setText("Answer a waiting contact, or log one by hand.")
            self.timer_label.setText("")
            self.notes.clear()
            self.pick_box.hide()
            return
        self.caller.setText(caller_text(record))
        self.badge.setText(theme.tier_badge_html(str(record.get("tier") or "B")))
        parts = [CHANNELS.get(str(record.get("channel")), "Contact")]
        number = str(record.get("caller_number") or "")
        if number and record.get("caller_name"):
            parts.append(format_phone(number) if number.startswith("+") else number)
        if record.get("answered_at"):
            parts.append(f"answered {local_time(record['answered_at'])}")
        soa = record.get("speed_of_answer_s")
        if soa is not None and record.get("channel") == "phone":
            parts.append(f"after {round(float(soa))} s")
        if record.get("owner_name"):
            parts.append(f"owner {record['owner_name']}")
        self.details.setText(" · ".join(parts))
        self.notes.clear()
        for note in record.get("notes") or []:
            said = "to the customer" if note.get("kind") == "reply" else ""
            who = f"{note['by']} {said}".strip()
            self.notes.addItem(f"{local_time(note['at'])} {who}: {note['text']}")
        wrapped = bool(record.get("wrap_up"))
        in_call = record.get("state") == "answered" and not wrapped
        self.end_button.setEnabled(in_call)
        self.hold_button.setEnabled(in_call)
        self.transfer_button.setEnabled(in_call)
        self.wrap_button.setEnabled(not wrapped)

    def ask_for_time(self) -> None:
        """ "ASAP" is no time: the promise's date and time field takes the focus."""
        self.promise_box.setVisible(True)
        self.promise_due.setFocus()
        self.promise_due.setSelectedSection(QtWidgets.QDateTimeEdit.Section.HourSection)

    def drafts(self) -> dict[str, Any]:
        """What the agent has typed and not yet recorded, for the contact on screen."""
        return {
            "note": self.note_text.toPlainText(),
            "reply": self.reply_text.toPlainText(),
            "promise": self.promise_text.text(),
            "due": self.promise_due.dateTime(),
            "handed_to": self.handed_to.text(),
            "category": self.category.currentIndex(),
            "outcome": self.outcome.currentIndex(),
        }

    def has_drafts(self) -> bool:
        found = self.drafts()
        return bool(
            found["note"].strip()
            or found["reply"].strip()
            or found["promise"].strip()
            or found["handed_to"].strip()
            or found["category"]
            or found["outcome"]
        )

    def restore_drafts(self, drafts: dict[str, Any] | None) -> None:
        """Put back what was typed for a contact (or start clean)."""
        found = drafts or {}
        self.note_text.setPlainText(found.get("note", ""))
        self.reply_text.setPlainText(found.get("reply", ""))
        self.promise_text.setText(found.get("promise", ""))
        if "due" in found:
            self.promise_due.setDateTime(found["due"])
        self.handed_to.setText(found.get("handed_to", ""))
        self.category.setCurrentIndex(found.get("category", 0))
        self.outcome.setCurrentIndex(found.get("outcome", 0))
        for label in (self.note_error, self.reply_error, self.promise_error, self.wrap_error):
            _show_error(label, None)

    def clear_drafts(self) -> None:
        self.restore_drafts(None)

    def show_refusals(self, refusals: list[OutboxIssue]) -> None:
        if not refusals:
            self.refusal_frame.hide()
            return
        first = refusals[0]
        messages = [f"{field}: {message}" for field, message in first.errors]
        typed = [
            str(first.fields[key])
            for key in ("text", "announcement", "handed_to", "caller_name", "caller_address")
            if first.fields.get(key)
        ]
        text = "The server refused a step: " + "; ".join(messages)
        if typed:
            # What the agent wrote stays readable (and selectable) until they dismiss it.
            text += "\nWhat you wrote: " + " · ".join(typed)
        self.refusal.setText(text)
        self.refusal.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.dismiss_button.setProperty("mutation_id", refusals[0].mutation_id)
        self.refusal_frame.show()

    def show_candidates(self, customers: list[Customer]) -> None:
        self.candidates.clear()
        for customer in customers:
            item = QtWidgets.QListWidgetItem(
                f"{customer.name} · {customer.organisation} · tier {customer.tier}"
            )
            item.setData(Qt.ItemDataRole.UserRole, customer.id)
            self.candidates.addItem(item)
        if customers:
            self.candidates.setCurrentRow(0)
        self.pick_box.setTitle(
            "Which customer is calling?"
            if customers
            else "Unknown caller: no sheet has this number"
        )
        self.candidates.setVisible(bool(customers))
        self.pick_button.setVisible(bool(customers))
        self.pick_box.show()

    def show_customer_context(
        self, promises: list[dict[str, Any]], recent: list[dict[str, Any]], current_id: str
    ) -> None:
        self.promises.clear()
        for promise in promises:
            self.promises.addItem(
                f"by {local_time(promise['due_at'], with_date=True)}: {promise['text']}"
                f" ({promise['by']})"
            )
        if not promises:
            self.promises.addItem("None open")
        self.recent.clear()
        shown = 0
        for record in recent:
            if record["id"] == current_id:
                continue
            wrap = record.get("wrap_up") or {}
            what = wrap.get("category") or record.get("state")
            self.recent.addItem(
                f"{local_time(record['offered_at'], with_date=True)} · "
                f"{CHANNELS.get(record.get('channel', ''), '')} · {what}"
            )
            shown += 1
            if shown == 5:
                break
        if not shown:
            self.recent.addItem("No earlier contacts")


def on_hold(record: dict[str, Any]) -> bool:
    """Whether the record has a hold that has not ended."""
    return any(h.get("end") is None for h in record.get("holds") or [])


def _compact_list(name: str, height: int) -> QtWidgets.QListWidget:
    """A short list whose lines wrap instead of scrolling sideways."""
    widget = QtWidgets.QListWidget()
    widget.setObjectName(name)
    widget.setWordWrap(True)
    widget.setMaximumHeight(height)
    widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return widget


def _error_label() -> QtWidgets.QLabel:
    label = QtWidgets.QLabel("")
    label.setProperty("role", "error")
    label.setWordWrap(True)
    label.hide()
    return label


def _show_error(label: QtWidgets.QLabel, error: ValidationFailed | None) -> None:
    if error is None:
        label.hide()
        label.setText("")
        return
    label.setText("\n".join(f"{e.field.replace('_', ' ')}: {e.message}" for e in error.errors))
    label.show()


class ContactController(QtCore.QObject):
    """Answers contacts, pops the caller's sheet, and records every step locally first.

    Signals:
        open_customer(str): show this customer's sheet (screen pop).
        create_customer(str): start a new sheet for an unknown caller with this number.
        contact_changed(object): the contact in hand changed (a dict, or None).
    """

    open_customer = QtCore.Signal(str)
    create_customer = QtCore.Signal(str)
    contact_changed = QtCore.Signal(object)
    language_known = QtCore.Signal(str, str)

    def __init__(
        self,
        pane: ContactPane,
        session: DeskSession,
        background: Background,
        notifier: Notifier,
        *,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(pane)
        self.pane = pane
        self.session = session
        self.background = background
        self.notifier = notifier
        self.clock = clock
        self.current: dict[str, Any] | None = None
        self.acw_started: float | None = None
        self._known_open: set[str] | None = None
        self._taken: set[str] = set()  # contacts this desk has had in hand
        #: Calls whose sheet popped straight from the server's event, before the pull.
        self._popped_early: set[str] = set()
        self.drafts: dict[str, dict[str, Any]] = {}  # typed text of contacts not in hand
        #: What the script panel recorded for a contact (set by the main window).
        self.adherence_for: Callable[[str], dict[str, Any] | None] = lambda _id: None
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        # Promises become reminders: each one due is announced once, on time.
        self.reminded: set[str] = set()
        self.reminder_timer = QtCore.QTimer(self)
        self.reminder_timer.setInterval(REMINDER_CHECK_MS)
        self.reminder_timer.timeout.connect(self.check_reminders)
        self.reminder_timer.start()
        pane.note_button.clicked.connect(self.add_note)
        pane.reply_button.clicked.connect(self.add_reply)
        pane.reply_copy_button.clicked.connect(self.copy_reply)
        pane.promise_button.clicked.connect(self.add_promise)
        pane.end_button.clicked.connect(self.end)
        pane.wrap_button.clicked.connect(self.wrap_up)
        pane.pick_button.clicked.connect(self.pick_candidate)
        pane.candidates.itemDoubleClicked.connect(lambda _item: self.pick_candidate())
        pane.create_button.clicked.connect(self._create_for_caller)
        pane.dismiss_button.clicked.connect(self._dismiss_refusal)
        session.records_changed.connect(self._records_changed)
        session.contact_heard.connect(self._contact_heard)
        self._reset_promise_due()

    # --- answering and the screen pop -------------------------------------------------------

    def answer(self, record: dict[str, Any], *, failed: Callable[[], None] | None = None) -> None:
        """Answer a waiting contact: recorded locally at once, then the caller's sheet pops."""

        def refused(error: BaseException) -> None:
            if failed is not None:
                failed()
            self._answer_failed(error)

        answered_at = dt.datetime.fromtimestamp(self.clock(), dt.UTC).isoformat()
        self.record_step(
            str(record["id"]),
            "answer",
            {"answered_at": answered_at},
            success=self._answered,
            failure=refused,
        )

    def _answered(self, record: dict[str, Any]) -> None:
        self.take(record)
        self.screen_pop(record)

    def _answer_failed(self, error: BaseException) -> None:
        if isinstance(error, ValidationFailed):
            self.notifier.notify("Not answered", str(error.errors[0].message), sound=False)
            return
        self.background.report(error)

    def screen_pop(self, record: dict[str, Any]) -> None:
        """The caller's sheet; a pick list for a shared number; a new sheet for a stranger."""
        self.pane.pick_box.hide()
        if record.get("customer_id"):
            self.open_customer.emit(str(record["customer_id"]))
            return
        candidates = [str(c) for c in record.get("candidates") or []]

        async def load() -> list[Customer]:
            store = self.session.store
            found = [await self.session.runner.read(store.customer, c) for c in candidates]
            return [c for c in found if c is not None]

        def show(customers: list[Customer]) -> None:
            self.pane.show_candidates(customers)
            if not customers:
                self._create_for_caller()

        self.background.run(load(), name="screen-pop", success=show)

    def _create_for_caller(self) -> None:
        if self.current is not None:
            self.create_customer.emit(str(self.current.get("caller_number") or ""))

    def pick_candidate(self) -> None:
        item = self.pane.candidates.currentItem()
        if item is not None:
            self.link(str(item.data(Qt.ItemDataRole.UserRole)))

    def link(self, customer_id: str) -> None:
        """The contact in hand is this customer's (picked, or a sheet just created)."""
        if self.current is None:
            return
        contact_id = str(self.current["id"])

        async def link() -> dict[str, Any]:
            store = self.session.store
            customer = await self.session.runner.read(store.customer, customer_id)
            if customer is None:
                raise ValidationFailed(
                    [FieldError("customer_id", "that sheet is not on this desk any more")]
                )
            fields = {
                "customer_id": customer.id,
                "tier": customer.tier,
                "caller_name": customer.name,
            }
            record: dict[str, Any] = await self.session.runner.write(
                store.record_contact, contact_id, "link", fields
            )
            return record

        def linked(record: dict[str, Any]) -> None:
            if not self.in_hand(contact_id):
                return  # the agent has moved on to another contact meanwhile
            self.pane.pick_box.hide()
            self.take(record)
            self.open_customer.emit(customer_id)

        self.background.run(
            link(), success=linked, failure=lambda e: self._refused(self.pane.wrap_error, e)
        )

    # --- notes, promises, wrap-up -----------------------------------------------------------

    def add_note(self) -> None:
        self._write("note", self.pane.note_text, self.pane.note_error)

    def add_reply(self) -> None:
        self._write("reply", self.pane.reply_text, self.pane.reply_error)

    def copy_reply(self) -> None:
        text = self.pane.reply_text.toPlainText().strip()
        if text:
            QtWidgets.QApplication.clipboard().setText(text)

    def _write(self, kind: str, box: QtWidgets.QPlainTextEdit, error: QtWidgets.QLabel) -> None:
        """A note or a reply goes on the record; the box empties once it is written."""
        text = box.toPlainText()
        if self.current is None:
            return
        contact_id = str(self.current["id"])
        fields = {"id": str(uuid.uuid4()), "text": text, "at": self._now_iso(), "kind": kind}
        # Sent once: the box empties now, and gets the text back if it is refused.
        box.clear()

        def done(record: dict[str, Any]) -> None:
            _show_error(error, None)
            self.take(record)

        def failed(failure: BaseException) -> None:
            self._give_back(contact_id, kind, text)
            self._refused(error, failure)

        self.record_step(contact_id, "note", fields, success=done, failure=failed)

    def add_promise(self) -> None:
        if self.current is None:
            return
        due = self.pane.promise_due.dateTime().toPython()
        assert isinstance(due, dt.datetime)
        fields = {
            "id": str(uuid.uuid4()),
            "text": self.pane.promise_text.text(),
            "due_at": due.astimezone().astimezone(dt.UTC).isoformat(),
            "at": self._now_iso(),
        }

        contact_id = str(self.current["id"])
        self.pane.promise_text.clear()

        def done(record: dict[str, Any]) -> None:
            self._reset_promise_due()
            _show_error(self.pane.promise_error, None)
            self.take(record)

        def failed(error: BaseException) -> None:
            self._give_back(contact_id, "promise", str(fields["text"]))
            self._refused(self.pane.promise_error, error)

        self.record_step(contact_id, "promise", fields, success=done, failure=failed)

    def end(self) -> None:
        if self.current is None:
            return
        self.record_step(
            str(self.current["id"]),
            "end",
            {"ended_at": self._now_iso()},
            success=self.take,
            failure=lambda e: self._refused(self.pane.wrap_error, e),
        )

    def acw_seconds(self) -> float:
        return 0.0 if self.acw_started is None else max(0.0, self.clock() - self.acw_started)

    def wrap_up(self) -> None:
        if self.current is None:
            return
        fields: dict[str, Any] = {
            "category": self.pane.category.currentData() or "",
            "outcome": self.pane.outcome.currentData() or "",
            "handed_to": self.pane.handed_to.text(),
            "wrapped_at": self._now_iso(),
            "acw_s": round(self.acw_seconds(), 1),
        }
        adherence = self.adherence_for(str(self.current["id"]))
        if adherence is not None:
            fields["script"] = adherence

        def done(record: dict[str, Any]) -> None:
            _show_error(self.pane.wrap_error, None)
            self.pane.category.setCurrentIndex(0)
            self.pane.outcome.setCurrentIndex(0)
            self.pane.handed_to.clear()
            self.session.wake_sync()
            self.take(None)
            self.notifier.window.statusBar().showMessage(
                f"Contact with {caller_text(record)} wrapped up and saved ✓", 5000
            )
            self._next_open()

        self.record_step(
            str(self.current["id"]),
            "wrap_up",
            fields,
            success=done,
            failure=lambda e: self._refused(self.pane.wrap_error, e),
        )

    # --- logging by hand --------------------------------------------------------------------

    def log_contact(self, fields: dict[str, Any], *, customer_id: str | None = None) -> None:
        """A contact that came past the phone system: an e-mail, a message, a visitor."""
        contact_id = str(uuid.uuid4())

        async def create() -> dict[str, Any]:
            store = self.session.store
            data = dict(fields)
            if customer_id:
                customer = await self.session.runner.read(store.customer, customer_id)
                if customer is not None:
                    data.update(
                        customer_id=customer.id, tier=customer.tier, caller_name=customer.name
                    )
            record: dict[str, Any] = await self.session.runner.write(
                store.record_contact, contact_id, "create", data
            )
            return record

        def created(record: dict[str, Any]) -> None:
            self.take(record)
            self.session.wake_sync()
            if record.get("customer_id"):
                self.open_customer.emit(str(record["customer_id"]))

        def failed(error: BaseException) -> None:
            if isinstance(error, ValidationFailed):
                problems = "; ".join(
                    f"{e.field.replace('_', ' ')}: {e.message}" for e in error.errors
                )
                self.notifier.notify("Contact not logged", problems, sound=False)
                return
            self.background.report(error)

        self.background.run(create(), success=created, failure=failed)

    # --- plumbing ---------------------------------------------------------------------------

    def _now_iso(self) -> str:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC).isoformat()

    def record_step(
        self,
        contact_id: str,
        op: str,
        fields: dict[str, Any],
        *,
        success: Callable[[dict[str, Any]], None],
        failure: Callable[[BaseException], None],
        any_contact: bool = False,
    ) -> None:
        """Record one step locally (then it syncs); ``success`` runs if the contact is still
        in hand (or always, with ``any_contact``: steps on calls on hold)."""

        async def write() -> dict[str, Any]:
            store = self.session.store
            record: dict[str, Any] = await self.session.runner.write(
                store.record_contact, contact_id, op, fields
            )
            return record

        def written(record: dict[str, Any]) -> None:
            self.session.wake_sync()
            if any_contact or op == "answer" or self.in_hand(contact_id):
                success(record)

        self.background.run(write(), success=written, failure=failure)

    def _give_back(self, contact_id: str, what: str, text: str) -> None:
        """A refused note or promise: its text goes back where the agent typed it."""
        if self.in_hand(contact_id):
            if what == "note" and not self.pane.note_text.toPlainText().strip():
                self.pane.note_text.setPlainText(text)
            elif what == "reply" and not self.pane.reply_text.toPlainText().strip():
                self.pane.reply_text.setPlainText(text)
            elif what == "promise" and not self.pane.promise_text.text().strip():
                self.pane.promise_text.setText(text)
            return
        draft = self.drafts.setdefault(contact_id, {})
        if not str(draft.get(what, "")).strip():
            draft[what] = text

    def in_hand(self, contact_id: str) -> bool:
        return self.current is not None and self.current["id"] == contact_id

    def _refused(self, label: QtWidgets.QLabel, error: BaseException) -> None:
        if isinstance(error, ValidationFailed):
            _show_error(label, error)
            return
        self.background.report(error)

    def take(self, record: dict[str, Any] | None) -> None:
        """Make ``record`` the contact in hand (None: nothing in hand) and redraw."""
        previous = self.current["id"] if self.current else None
        if previous is not None and (record is None or previous != record["id"]):
            # Typed text belongs to its contact: kept while the caller is on hold or another
            # contact is in hand, and back when the contact is.
            if self.pane.has_drafts():
                self.drafts[str(previous)] = self.pane.drafts()
            else:
                self.drafts.pop(str(previous), None)
        self.current = record
        if record is not None:
            self._taken.add(str(record["id"]))
        if record is None:
            self.acw_started = None
        elif record.get("ended_at") and not record.get("wrap_up"):
            if self.acw_started is None or previous != record["id"]:
                ended = dt.datetime.fromisoformat(str(record["ended_at"])).timestamp()
                self.acw_started = min(ended, self.clock())
        else:
            self.acw_started = None
        self.pane.show_contact(record)
        if record is None or previous != record["id"]:
            self.pane.pick_box.hide()
            self.pane.restore_drafts(self.drafts.pop(str(record["id"]), None) if record else None)
        self._tick()
        self._load_context()
        self.contact_changed.emit(record)

    def _load_context(self) -> None:
        record = self.current
        if record is None:
            self.pane.show_refusals([])
            return
        contact_id = str(record["id"])
        customer_id = record.get("customer_id")

        async def load() -> ContextLoad:
            store = self.session.store
            refusals = await self.session.runner.read(store.contact_refusals, contact_id)
            if not customer_id:
                return [], [], refusals, "en"
            recent = await self.session.runner.read(store.contacts_of, str(customer_id))
            customer = await self.session.runner.read(store.customer, str(customer_id))
            language = customer.language if customer is not None else "en"
            return open_promises(recent), recent, refusals, language

        def show(loaded: ContextLoad) -> None:
            promises, recent, refusals, language = loaded
            self.pane.show_customer_context(promises, recent, contact_id)
            self.pane.show_refusals(refusals)
            # The coach reads notes in the customer's language; the script follows it too.
            self.pane.note_coach.set_language(language)
            self.pane.reply_coach.set_language(language)
            if customer_id:
                self.language_known.emit(contact_id, language)

        self.background.run(load(), name="contact-context", success=show)

    def _tick(self) -> None:
        record = self.current
        if record is None:
            self.pane.timer_label.setText("")
            return
        now = self.clock()
        if record.get("wrap_up"):
            text = "Wrapped up"
        elif self.acw_started is not None:
            text = f"After-call work {clock_text(max(0.0, now - self.acw_started))}"
        elif record.get("state") == "answered":
            text = f"On the contact {clock_text(_since(record.get('answered_at'), now))}"
        else:
            text = str(record.get("state", ""))
        self.pane.timer_label.setText(text)

    def _reset_promise_due(self) -> None:
        tomorrow = dt.datetime.fromtimestamp(self.clock()).replace(
            hour=10, minute=0, second=0, microsecond=0
        ) + dt.timedelta(days=1)
        self.pane.promise_due.setDateTime(
            QtCore.QDateTime.fromMSecsSinceEpoch(int(tomorrow.timestamp() * 1000))
        )

    def _dismiss_refusal(self) -> None:
        mutation_id = self.pane.dismiss_button.property("mutation_id")
        if not mutation_id or self.current is None:
            return
        contact_id = str(self.current["id"])

        async def dismiss() -> dict[str, Any] | None:
            store = self.session.store
            await self.session.runner.write(store.resolve, str(mutation_id), keep_mine=False)
            if self.current is None or self.current["id"] != contact_id:
                return None
            return await self.session.runner.read(store.contact, contact_id)

        def dismissed(record: dict[str, Any] | None) -> None:
            if self.in_hand(contact_id):
                self.take(record)

        self.background.run(dismiss(), success=dismissed)

    def _records_changed(self, ids: set[str]) -> None:
        if self.current is not None and self.current["id"] in ids:
            contact_id = str(self.current["id"])

            def reload(record: dict[str, Any] | None) -> None:
                if self.current is not None and self.current["id"] == contact_id:
                    self.take(record)

            self.background.run(
                self.session.runner.read(self.session.store.contact, contact_id), success=reload
            )
        self._check_popped_elsewhere()

    def _check_popped_elsewhere(self) -> None:
        """A call the phone system says this agent picked up pops here too; on start, the
        contact left open last time is back in hand."""

        def check(open_records: list[dict[str, Any]]) -> None:
            ids = {str(r["id"]) for r in open_records}
            known, self._known_open = self._known_open, ids
            if self.current is not None:
                return
            fresh = [
                r
                for r in open_records
                if (known is None or r["id"] not in known)
                and r["id"] not in self._taken
                and not on_hold(r)
            ]
            if fresh:
                first = str(fresh[0]["id"])
                self.take(fresh[0])
                if first in self._popped_early:
                    self._popped_early.discard(first)  # its sheet is up already
                else:
                    self.screen_pop(fresh[0])

        self.background.run(
            self.session.runner.read(self.session.store.open_contacts_of, self.session.user.id),
            name="open-contacts",
            success=check,
        )

    def _contact_heard(self, record: dict[str, Any]) -> None:
        """The phone system says this agent picked up a known caller: the sheet pops straight
        from the server's event, without waiting for the pull that stores the call (the call
        becomes the contact in hand when it is stored, as in :meth:`_check_popped_elsewhere`).
        """
        contact_id = str(record.get("id") or "")
        customer_id = str(record.get("customer_id") or "")
        if (
            record.get("state") != "answered"
            or record.get("owner_id") != self.session.user.id
            or not customer_id
            or self.current is not None
            or self._known_open is None  # the desk has not looked at its open calls yet
            or contact_id in self._known_open
            or contact_id in self._taken
            or contact_id in self._popped_early
            or on_hold(record)
        ):
            return

        def pop(customer: Customer | None) -> None:
            # A sheet this desk does not hold yet comes with the pull: it pops from there.
            if customer is not None and self.current is None and contact_id not in self._taken:
                self._popped_early.add(contact_id)
                self.open_customer.emit(customer_id)

        self.background.run(
            self.session.runner.read(self.session.store.customer, customer_id), success=pop
        )

    def _next_open(self) -> None:
        def take(open_records: list[dict[str, Any]]) -> None:
            waiting = [r for r in open_records if not on_hold(r)]  # held ones are on the board
            if self.current is None and waiting:
                self.take(waiting[0])

        self.background.run(
            self.session.runner.read(self.session.store.open_contacts_of, self.session.user.id),
            success=take,
        )

    def check_reminders(self) -> None:
        """Announce promises of this agent that have come due and were not announced yet."""

        store = self.session.store

        async def due_now() -> list[dict[str, Any]]:
            promises = await self.session.runner.read(store.open_promises_of, self.session.user.id)
            done = await self.session.runner.read(store.reminded)
            now = self.clock()
            due = [
                p
                for p in promises
                if p["id"] not in done
                and p["id"] not in self.reminded
                and dt.datetime.fromisoformat(str(p["due_at"])).timestamp() <= now
            ]
            if due:
                await self.session.runner.write(store.add_reminded, [p["id"] for p in due])
            return due

        def remind(due: list[dict[str, Any]]) -> None:
            for promise in due:
                self.reminded.add(str(promise["id"]))
                self.notifier.notify(
                    "Promise due",
                    f"{promise['text']} (by {local_time(promise['due_at'], with_date=True)})",
                )

        self.background.run(due_now(), name="reminders", success=remind)

    def stop(self) -> None:
        self.timer.stop()
        self.reminder_timer.stop()
