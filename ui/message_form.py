"""The message form: every field of a complete message, checked as it is typed, and the
sentence to read back to the caller.

The number is checked with the caller's country rules and shown formatted; the caller's time
zone is proposed from it. The best time to call back is entered in the caller's own time and
shown in the agent's and the recipient's too. The rules are the core's
(:mod:`agentdesk.domain.messages`); this dialog only gathers and shows.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
import zoneinfo
from collections.abc import Callable
from typing import Any

from agentdesk.domain.contacts import Actor
from agentdesk.domain.customers import Customer
from agentdesk.domain.errors import FieldError, FieldValueError, ValidationFailed
from agentdesk.domain.messages import (
    URGENCIES,
    Recipient,
    caller_time,
    check_phone,
    new_message,
    propose_timezone,
    read_back,
    split_name,
    wall_time,
    window_text,
)
from agentdesk.wire import Directory, UserPublic
from ui.coach_edit import CoachedEdit
from ui.qt import Qt, QtCore, QtGui, QtWidgets

READ_BACK_LANGUAGES = (("en", "English"), ("zh_CN", "中文"), ("nb", "Norsk"))
FIELDS = (
    "first_name",
    "last_name",
    "organisation",
    "phone",
    "caller_timezone",
    "for_user",
    "message",
    "urgency",
    "callback_after",
    "callback_before",
)


@functools.cache
def all_zones() -> list[str]:
    return sorted(z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith("Etc"))


def desk_zone_name() -> str:
    """The IANA name of this computer's zone, when the system says it (else UTC)."""
    try:
        with open("/etc/timezone", encoding="utf-8") as handle:
            name = handle.read().strip()
        zoneinfo.ZoneInfo(name)
        return name
    except (OSError, ValueError, zoneinfo.ZoneInfoNotFoundError):
        pass
    key = getattr(dt.datetime.now().astimezone().tzinfo, "key", None)
    return str(key) if key else "UTC"


class MessageForm(QtWidgets.QDialog):
    """One message being taken. ``send_requested(fields)`` asks the desk to keep and send it;
    the desk answers with :meth:`refused` or closes the form."""

    send_requested = QtCore.Signal(dict)

    def __init__(
        self,
        parent: QtWidgets.QWidget | None,
        *,
        actor: Actor,
        directory: Directory | None,
        clock: Callable[[], dt.datetime] | None = None,
        agent_zone: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("message-form")
        self.setWindowTitle("Take a message")
        self.actor = actor
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.agent_zone = agent_zone or desk_zone_name()
        self.taken_at = self.clock()
        self.message_id = str(uuid.uuid4())
        self.links: dict[str, str] = {}
        #: A refused message this one corrects (dropped once this one is kept).
        self.replaces = ""
        self._zone_chosen = False
        self._tried = False
        self._window_errors: list[FieldError] = []
        self.users: dict[str, UserPublic] = {}

        self.first_name = QtWidgets.QLineEdit()
        self.last_name = QtWidgets.QLineEdit()
        self.organisation = QtWidgets.QLineEdit()
        self.organisation.setPlaceholderText(
            "Where they call from (“private” for a private caller)"
        )
        self.phone = QtWidgets.QLineEdit()
        self.phone.setPlaceholderText("+47 22 33 44 55 (with country and area code)")
        self.phone_shown = QtWidgets.QLabel("")
        self.phone_shown.setProperty("role", "subtle")
        self.zone = QtWidgets.QComboBox()
        self.zone.setEditable(True)
        self.zone.addItems(all_zones())
        self.zone.setInsertPolicy(QtWidgets.QComboBox.InsertPolicy.NoInsert)
        completer = self.zone.completer()
        if completer is not None:
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            completer.setCompletionMode(QtWidgets.QCompleter.CompletionMode.PopupCompletion)
        self.zone.setCurrentIndex(-1)
        self.zone.setEditText("")
        self.recipient = QtWidgets.QComboBox()
        self.recipient.addItem("Choose a colleague or team…", None)
        self.message = QtWidgets.QPlainTextEdit()
        self.message.setObjectName("message-text")
        self.message.setPlaceholderText("What the caller wants, in their words")
        self.message.setFixedHeight(80)
        self.message.setTabChangesFocus(True)
        self.coach = CoachedEdit(self.message)
        self.urgency = QtWidgets.QComboBox()
        for key, label in URGENCIES.items():
            self.urgency.addItem(label, key)
        self.urgency.setCurrentIndex(self.urgency.findData("normal"))
        tomorrow = QtCore.QDate.currentDate().addDays(1)
        self.day = QtWidgets.QDateEdit(tomorrow)
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("ddd dd MMM yyyy")
        self.start = QtWidgets.QTimeEdit(QtCore.QTime(9, 0))
        self.end = QtWidgets.QTimeEdit(QtCore.QTime(11, 0))
        for edit in (self.start, self.end):
            edit.setDisplayFormat("HH:mm")
        window = QtWidgets.QHBoxLayout()
        window.addWidget(self.day, 1)
        window.addWidget(QtWidgets.QLabel("from"))
        window.addWidget(self.start)
        window.addWidget(QtWidgets.QLabel("to"))
        window.addWidget(self.end)
        self.window_elsewhere = QtWidgets.QLabel("")
        self.window_elsewhere.setObjectName("window-elsewhere")
        self.window_elsewhere.setProperty("role", "subtle")
        self.window_elsewhere.setWordWrap(True)
        self.language = QtWidgets.QComboBox()
        for code, label in READ_BACK_LANGUAGES:
            self.language.addItem(label, code)
        self.taken_label = QtWidgets.QLabel("")
        self.taken_label.setProperty("role", "subtle")

        self.errors: dict[str, QtWidgets.QLabel] = {}
        form = QtWidgets.QFormLayout()
        self.form = form
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        rows: list[tuple[str, str, QtWidgets.QWidget | QtWidgets.QLayout]] = [
            ("first_name", "First name", self.first_name),
            ("last_name", "Last name", self.last_name),
            ("organisation", "Organisation", self.organisation),
            ("phone", "Phone", self.phone),
            ("caller_timezone", "Caller's time zone", self.zone),
            ("for_user", "For", self.recipient),
            ("message", "Message", self.message),
            ("urgency", "Urgency", self.urgency),
            ("callback_after", "Call back (caller's time)", window),
        ]
        for key, label, widget in rows:
            form.addRow(label, widget)
            if key == "phone":
                form.addRow("", self.phone_shown)
            if key == "callback_after":
                form.addRow("", self.window_elsewhere)
            error = QtWidgets.QLabel("")
            error.setProperty("role", "error")
            error.setWordWrap(True)
            self.errors[key] = error
            form.addRow("", error)
        # The window's end has its own refusals ("must be later than the start").
        end_error = QtWidgets.QLabel("")
        end_error.setProperty("role", "error")
        end_error.setWordWrap(True)
        self.errors["callback_before"] = end_error
        form.addRow("", end_error)
        self.phone_shown.setWordWrap(True)
        for note in (*self.errors.values(), self.phone_shown):
            form.setRowVisible(note, False)
        form.addRow("Read back in", self.language)
        form.addRow("", self.taken_label)

        self.read_back = QtWidgets.QTextBrowser()
        self.read_back.setObjectName("read-back")
        self.read_back.setMinimumWidth(300)
        read_box = QtWidgets.QGroupBox("Read back to the caller")
        read_layout = QtWidgets.QVBoxLayout(read_box)
        read_layout.addWidget(self.read_back)
        self.copy_button = QtWidgets.QPushButton("Copy")
        read_layout.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignRight)

        self.summary = QtWidgets.QLabel("")
        self.summary.setProperty("role", "error")
        self.summary.setWordWrap(True)
        self.summary.hide()
        self.send_button = QtWidgets.QPushButton("Send")
        self.send_button.setProperty("role", "primary")
        # Enter in a field must not send a half-taken message: Ctrl+Enter sends.
        self.send_button.setAutoDefault(False)
        self.send_button.setToolTip("Keep and send the message (Ctrl+Enter)")
        send_shortcut = QtGui.QShortcut(QtGui.QKeySequence("Ctrl+Return"), self)
        send_shortcut.activated.connect(self.send)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setAutoDefault(False)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.send_button)

        fields_widget = QtWidgets.QWidget()
        stacked = QtWidgets.QVBoxLayout(fields_widget)
        stacked.addLayout(form)
        stacked.addStretch(1)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(fields_widget)
        columns = QtWidgets.QHBoxLayout()
        columns.addWidget(scroll, 3)
        columns.addWidget(read_box, 2)
        outer = QtWidgets.QVBoxLayout(self)
        outer.addLayout(columns, 1)
        outer.addLayout(buttons)
        self.resize(980, 640)

        self.set_directory(directory)
        for line in (self.first_name, self.last_name, self.organisation, self.phone):
            line.textChanged.connect(self.update_preview)
        self.phone.textChanged.connect(self._phone_changed)
        self.zone.currentTextChanged.connect(self._zone_edited)
        self.message.textChanged.connect(self.update_preview)
        for combo in (self.recipient, self.urgency, self.language):
            combo.currentIndexChanged.connect(self.update_preview)
        self.day.dateChanged.connect(self.update_preview)
        self.start.timeChanged.connect(self.update_preview)
        self.end.timeChanged.connect(self.update_preview)
        self.send_button.clicked.connect(self.send)
        self.cancel_button.clicked.connect(self.reject)
        self.copy_button.clicked.connect(
            lambda: QtGui.QGuiApplication.clipboard().setText(self.read_back.toPlainText())
        )
        self.update_preview()

    # --- filling in ------------------------------------------------------------------------

    def set_directory(self, directory: Directory | None) -> None:
        chosen = self.recipient.currentData()
        self.recipient.blockSignals(True)
        while self.recipient.count() > 1:
            self.recipient.removeItem(1)
        self.users = {}
        if directory is not None:
            for user in directory.users:
                if user.username == self.actor.username:
                    continue
                self.users[user.username] = user
                where = f" · {user.department}" if user.department else ""
                self.recipient.addItem(f"{user.full_name}{where}", f"user:{user.username}")
            for team in directory.teams:
                self.recipient.addItem(f"Team: {team}", f"team:{team}")
        if chosen is not None:
            self.recipient.setCurrentIndex(max(0, self.recipient.findData(chosen)))
        self.recipient.blockSignals(False)

    def fill_from(
        self,
        *,
        customer: Customer | None = None,
        contact: dict[str, Any] | None = None,
    ) -> None:
        """A known caller's details, from their sheet and the contact in hand."""
        if contact is not None:
            self.links["contact_id"] = str(contact["id"])
            answered = contact.get("answered_at") or contact.get("offered_at")
            if answered:
                self.taken_at = dt.datetime.fromisoformat(str(answered))
            name = str(contact.get("caller_name") or "")
            number = str(contact.get("caller_number") or "")
            if customer is not None:
                name = customer.name
            if name:
                first, last = split_name(name)
                _fill(self.first_name, first)
                _fill(self.last_name, last)
            if number.startswith("+"):
                _fill(self.phone, number)
        if customer is not None:
            self.links["customer_id"] = customer.id
            first, last = split_name(customer.name)
            _fill(self.first_name, first)
            _fill(self.last_name, last)
            _fill(self.organisation, customer.organisation)
            if customer.phones:
                _fill(self.phone, customer.phones[0].number)
            if customer.timezone and customer.timezone != "UTC" and not self._zone_chosen:
                self._set_zone(customer.timezone, chosen=True)
            self.language.setCurrentIndex(max(0, self.language.findData(customer.language)))
        self.update_preview()

    def fill_from_message(self, record: dict[str, Any]) -> None:
        """A refused message, back in the form to be corrected and sent again."""
        self.first_name.setText(str(record.get("first_name") or ""))
        self.last_name.setText(str(record.get("last_name") or ""))
        self.organisation.setText(str(record.get("organisation") or ""))
        self.phone.setText(str(record.get("phone_display") or record.get("phone") or ""))
        self.message.setPlainText(str(record.get("message") or ""))
        self.urgency.setCurrentIndex(max(0, self.urgency.findData(record.get("urgency"))))
        self.language.setCurrentIndex(max(0, self.language.findData(record.get("language"))))
        zone = str(record.get("caller_timezone") or "")
        if zone:
            self._set_zone(zone, chosen=True)
            after = wall_time(dt.datetime.fromisoformat(str(record["callback_after"])), zone)
            before = wall_time(dt.datetime.fromisoformat(str(record["callback_before"])), zone)
            self.day.setDate(QtCore.QDate(after.year, after.month, after.day))
            self.start.setTime(QtCore.QTime(after.hour, after.minute))
            self.end.setTime(QtCore.QTime(before.hour, before.minute))
        if record.get("for_user"):
            self.choose_recipient(str(record["for_user"]))
        elif record.get("for_team"):
            self.recipient.setCurrentIndex(
                max(0, self.recipient.findData(f"team:{record['for_team']}"))
            )
        for key in ("customer_id", "contact_id"):
            if record.get(key):
                self.links[key] = str(record[key])
        self.taken_at = dt.datetime.fromisoformat(str(record["taken_at"]))
        self.update_preview()

    def choose_recipient(self, username: str) -> None:
        index = self.recipient.findData(f"user:{username}")
        if index >= 0:
            self.recipient.setCurrentIndex(index)

    def _set_zone(self, name: str, *, chosen: bool) -> None:
        self.zone.blockSignals(True)
        index = self.zone.findText(name)
        if index >= 0:
            self.zone.setCurrentIndex(index)
        else:
            self.zone.setEditText(name)
        self.zone.blockSignals(False)
        self._zone_chosen = chosen
        self.update_preview()

    def _phone_changed(self) -> None:
        """The number is checked as it is typed: formatted when valid, else what is missing."""
        typed = self.phone.text().strip()
        try:
            e164, shown = check_phone(typed)
        except FieldValueError as exc:
            self._set_row(self.phone_shown, "")
            self._set_row(self.errors["phone"], f"phone: {exc}" if typed else "")
            return
        self._set_row(self.errors["phone"], "")
        zone = propose_timezone(e164)
        note = f" · time zone proposed from the number: {zone}" if zone else ""
        self._set_row(self.phone_shown, f"{shown}{note}")
        if not self._zone_chosen:
            # A number that does not tell its zone clears a zone an earlier number proposed.
            self._set_zone(zone or "", chosen=False)

    def _set_row(self, label: QtWidgets.QLabel, text: str) -> None:
        """Show a note or error under a field; an empty one takes no room."""
        label.setText(text)
        self.form.setRowVisible(label, bool(text))

    def _zone_edited(self, _text: str) -> None:
        self._zone_chosen = True  # the agent picked it: the number no longer overrides it
        self.update_preview()

    # --- what the form says ----------------------------------------------------------------

    def fields(self) -> dict[str, Any]:
        """What is typed, as the core's message rules take it."""
        found: dict[str, Any] = {
            "first_name": self.first_name.text(),
            "last_name": self.last_name.text(),
            "organisation": self.organisation.text(),
            "phone": self.phone.text(),
            "caller_timezone": self.zone.currentText().strip(),
            "message": self.message.toPlainText(),
            "urgency": self.urgency.currentData(),
            "language": self.language.currentData(),
            "taken_at": self.taken_at.astimezone(dt.UTC).isoformat(),
            **self.links,
        }
        chosen = self.recipient.currentData()
        if chosen:
            kind, name = str(chosen).split(":", 1)
            if kind == "user":
                user = self.users.get(name)
                found.update(for_user=name, for_name=user.full_name if user else name)
            else:
                found.update(for_team=name)
        found.update(self._window())
        return found

    def _window(self) -> dict[str, str]:
        """The callback window as the caller reads it, in UTC (empty if the zone is unknown)."""
        zone = self.zone.currentText().strip()
        day = self.day.date().toPython()
        assert isinstance(day, dt.date)
        start = dt.datetime.combine(day, self.start.time().toPython())  # type: ignore[arg-type]
        end = dt.datetime.combine(day, self.end.time().toPython())  # type: ignore[arg-type]
        try:
            zoneinfo.ZoneInfo(zone)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            return {}
        window: dict[str, str] = {}
        self._window_errors = []
        for key, wall in (("callback_after", start), ("callback_before", end)):
            try:
                window[key] = caller_time(wall, zone, key).isoformat()
            except ValidationFailed as failed:
                # A time the clocks skip in the caller's zone: say so, by the field.
                self._window_errors.extend(failed.errors)
                window.pop(key, None)
        return window

    def recipient_for(self, found: dict[str, Any]) -> Recipient:
        if found.get("for_user"):
            user = self.users.get(str(found["for_user"]))
            return Recipient(
                username=str(found["for_user"]),
                full_name=user.full_name if user else str(found["for_user"]),
            )
        return Recipient(team=str(found.get("for_team") or ""))

    def check(self) -> tuple[dict[str, Any] | None, list[FieldError]]:
        """The message as it would be taken now, or every field at fault."""
        found = self.fields()
        try:
            record = new_message(
                found,
                self.actor,
                self.recipient_for(found),
                message_id=self.message_id,
                now=self.clock(),
            )
        except ValidationFailed as failed:
            errors = [*self._window_errors]
            errors += [e for e in failed.errors if e.field not in {w.field for w in errors}]
            try:
                zoneinfo.ZoneInfo(str(found.get("caller_timezone") or "-"))
            except (ValueError, zoneinfo.ZoneInfoNotFoundError):
                # Without a zone the window cannot be placed; say so once, at the zone.
                errors = [e for e in errors if not e.field.startswith("callback_")]
            return None, errors
        return record, []

    def update_preview(self) -> None:
        record, errors = self.check()
        self._show_window()
        self.taken_label.setText(
            f"Taken by {self.actor.label} · "
            f"{self.taken_at.astimezone():%a %d %b %Y %H:%M} (filled in by itself)"
        )
        if self._tried:
            self.show_errors(errors)
        if record is None:
            missing = sorted({_label(e.field) for e in errors})
            self.read_back.setPlainText(
                "The read-back appears when the message is complete.\n\nStill needed: "
                + ", ".join(missing)
            )
            return
        self.read_back.setPlainText(read_back(record))

    def _show_window(self) -> None:
        window = self._window()
        if self._window_errors:
            self.window_elsewhere.setText("That time does not exist in the caller's zone.")
            return
        if not window:
            self.window_elsewhere.setText("Choose the caller's time zone to place the window.")
            return
        after = dt.datetime.fromisoformat(window["callback_after"])
        before = dt.datetime.fromisoformat(window["callback_before"])
        lines = [f"Your time: {window_text(after, before, self.agent_zone)}"]
        chosen = str(self.recipient.currentData() or "")
        if chosen.startswith("user:"):
            user = self.users.get(chosen.removeprefix("user:"))
            if user is not None and user.timezone and user.timezone != self.agent_zone:
                lines.append(
                    f"{user.full_name}'s time: {window_text(after, before, user.timezone)}"
                )
        self.window_elsewhere.setText("\n".join(lines))

    def show_errors(self, errors: list[FieldError]) -> None:
        by_field: dict[str, str] = {}
        for error in errors:
            key = "for_user" if error.field == "for_team" else error.field
            by_field.setdefault(key, error.message)
        for key, label in self.errors.items():
            text = by_field.get(key)
            self._set_row(label, f"{_label(key)}: {text}" if text else "")
        if errors:
            self.summary.setText(
                f"Not sent: {len(by_field)} field(s) to fix — nothing you typed is lost."
            )
            self.summary.show()
        else:
            self.summary.hide()

    # --- sending ---------------------------------------------------------------------------

    def send(self) -> None:
        self._tried = True
        record, errors = self.check()
        if record is None:
            self.show_errors(errors)
            first = next((e.field for e in errors), None)
            widget = self._widget_for(first)
            if widget is not None:
                widget.setFocus()
            return
        self.show_errors([])
        self.send_button.setEnabled(False)
        self.send_requested.emit(self.fields())

    def refused(self, error: ValidationFailed) -> None:
        """The desk could not keep it: the fields at fault are named, the text stays."""
        self.send_button.setEnabled(True)
        self.show_errors(error.errors)

    def _widget_for(self, field: str | None) -> QtWidgets.QWidget | None:
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "organisation": self.organisation,
            "phone": self.phone,
            "caller_timezone": self.zone,
            "for_user": self.recipient,
            "for_team": self.recipient,
            "message": self.message,
            "callback_after": self.start,
            "callback_before": self.end,
        }.get(field or "")

    def has_typed(self) -> bool:
        """Whether the agent typed anything that closing would throw away."""
        typed = (self.first_name, self.last_name, self.organisation, self.phone)
        return bool(self.message.toPlainText().strip()) or (
            not self.links and any(line.text().strip() for line in typed)
        )

    def reject(self) -> None:
        if self.has_typed() and self.send_button.isEnabled():
            answer = QtWidgets.QMessageBox.question(
                self,
                "Discard the message?",
                "The message is not sent. Discard what you typed?",
            )
            if answer != QtWidgets.QMessageBox.StandardButton.Yes:
                return
        super().reject()


_LABELS = {
    "first_name": "first name",
    "last_name": "last name",
    "organisation": "organisation",
    "phone": "phone",
    "caller_timezone": "caller's time zone",
    "for_user": "for",
    "for_team": "for",
    "message": "message",
    "urgency": "urgency",
    "callback_after": "call back from",
    "callback_before": "call back until",
}


def _fill(line: QtWidgets.QLineEdit, text: str) -> None:
    """Fill a field the agent has left empty; what they typed wins."""
    if not line.text().strip():
        line.setText(text)


def _label(field: str) -> str:
    return _LABELS.get(field, field.replace("_", " "))
