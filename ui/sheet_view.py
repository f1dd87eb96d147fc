"""The customer information sheet: layout only. :mod:`ui.sheet_controller` drives it."""

from __future__ import annotations

from typing import Any

from agentdesk.domain.customers import LANGUAGES, PHONE_LABELS, format_phone
from ui import theme
from ui.qt import Qt, QtCore, QtGui, QtWidgets

COMMON_TIMEZONES = (
    "Europe/Oslo",
    "Europe/Stockholm",
    "Europe/Copenhagen",
    "Europe/Helsinki",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Rome",
    "Europe/Madrid",
    "Europe/Warsaw",
    "Europe/Moscow",
    "Europe/Istanbul",
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Kolkata",
    "Asia/Dubai",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Toronto",
    "America/Sao_Paulo",
    "Africa/Johannesburg",
    "Africa/Cairo",
    "UTC",
)

DEVICE_TEXT_FIELDS = (
    ("computer_name", "Computer name"),
    ("os", "Operating system"),
    ("cpu", "CPU"),
    ("memory", "Memory"),
    ("disk", "Disk"),
    ("network_card", "Network card"),
)


DEVICE_FIELD_NAMES = {
    "computer_name": "computer name",
    "os": "operating system",
    "cpu": "CPU",
    "memory": "memory",
    "disk": "disk",
    "network_card": "network card",
    "software": "common software",
    "ip_addresses": "IP addresses",
}
ERROR_WIDTH = 260


def wrap(text: str, metrics: QtGui.QFontMetrics, width: int) -> str:
    """Break ``text`` into lines no wider than ``width`` pixels, at spaces."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and metrics.horizontalAdvance(candidate) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return "\n".join(lines)


class FieldSlot:
    """An editor and the error line under it."""

    def __init__(self, editor: QtWidgets.QWidget) -> None:
        self.editor = editor
        self.error = QtWidgets.QLabel()
        self.error.setProperty("role", "error")
        self.error.hide()
        self._tip = editor.toolTip()  # the editor's own help comes back with the error gone
        self._message = ""

    def show_error(self, message: str | None) -> None:
        message = message or ""
        if not message and not self._message:
            return  # nothing shown, nothing to clear: opening a sheet stays cheap
        self._message = message
        # Lines are broken here rather than by the label: nested form layouts measure a
        # word-wrapped label at the wrong width and clip its last line.
        width = max(self.editor.width(), ERROR_WIDTH)
        self.error.setText(wrap(message, self.error.fontMetrics(), width))
        self.error.setVisible(bool(message))
        self.editor.setToolTip(message or self._tip)
        theme.set_invalid(self.editor, bool(message))

    def column(self) -> QtWidgets.QWidget:
        box = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.editor)
        layout.addWidget(self.error)
        return box


def _line(placeholder: str = "", name: str = "") -> QtWidgets.QLineEdit:
    edit = QtWidgets.QLineEdit()
    edit.setPlaceholderText(placeholder)
    edit.setObjectName(name)
    return edit


def _lines_text(values: list[str]) -> str:
    return "\n".join(values)


def _text_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class PhoneRow(QtWidgets.QWidget):
    """One phone number: label, number, remove."""

    remove_requested = QtCore.Signal(object)

    def __init__(self, label: str = "office", number: str = "") -> None:
        super().__init__()
        self.label = QtWidgets.QComboBox()
        self.label.addItems(list(PHONE_LABELS))
        self.label.setEditable(False)
        self.label.setFixedWidth(110)
        self.number = _line("+47 22 33 44 55", "phone-number")
        self.number.setMinimumWidth(170)
        self.set_value(label, number)
        self.slot = FieldSlot(self.number)
        remove = QtWidgets.QToolButton()
        remove.setText("✕")
        remove.setToolTip("Remove this number")
        remove.clicked.connect(lambda: self.remove_requested.emit(self))
        line = QtWidgets.QHBoxLayout()
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(self.label)
        line.addWidget(self.number, 1)
        line.addWidget(remove)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(line)
        layout.addWidget(self.slot.error)

    def set_value(self, label: str, number: str) -> None:
        # A label of another sheet's number is not offered for this one.
        while self.label.count() > len(PHONE_LABELS):
            self.label.removeItem(self.label.count() - 1)
        if label not in PHONE_LABELS:
            self.label.addItem(label)
        self.label.setCurrentText(label)
        self.number.setText(format_phone(number) if number.startswith("+") else number)
        self.number.setCursorPosition(0)

    def value(self) -> dict[str, str]:
        return {"label": self.label.currentText(), "number": self.number.text()}


class PhoneList(QtWidgets.QWidget):
    """Any number of phone numbers, each with its own error line."""

    edited = QtCore.Signal()

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[PhoneRow] = []
        self._layout = QtWidgets.QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self.add_button = QtWidgets.QPushButton("Add phone number")
        self.add_button.clicked.connect(self._add_clicked)
        self._layout.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignLeft)

    def add_row(self, label: str = "office", number: str = "") -> PhoneRow:
        row = PhoneRow(label, number)
        row.remove_requested.connect(self._remove)
        row.number.textEdited.connect(lambda _text: self.edited.emit())
        row.label.activated.connect(lambda _i: self.edited.emit())
        self.rows.append(row)
        self._layout.insertWidget(len(self.rows) - 1, row)
        return row

    def _add_clicked(self) -> None:
        self.add_row().number.setFocus()
        self.edited.emit()

    def _remove(self, row: PhoneRow) -> None:
        self.rows.remove(row)
        row.deleteLater()
        self.edited.emit()

    def set_values(self, phones: list[dict[str, str]]) -> None:
        # The rows already built are filled again: a screen pop builds no widgets for them.
        for row in self.rows[len(phones) :]:
            self.rows.remove(row)
            row.hide()
            row.deleteLater()
        for row, phone in zip(self.rows, phones, strict=False):
            row.set_value(phone.get("label", "office"), phone.get("number", ""))
        for phone in phones[len(self.rows) :]:
            self.add_row(phone.get("label", "office"), phone.get("number", ""))

    def values(self) -> list[dict[str, str]]:
        # Empty rows are kept so error paths (phones[i]) match the rows on screen.
        return [row.value() for row in self.rows]


class DeviceForm(QtWidgets.QWidget):
    """One computer: hardware and software."""

    edited = QtCore.Signal()

    def __init__(self, device_id: str) -> None:
        super().__init__()
        self.device_id = device_id
        self.slots: dict[str, FieldSlot] = {}
        form = QtWidgets.QFormLayout(self)
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        for key, title in DEVICE_TEXT_FIELDS:
            edit = _line(name=key)
            edit.textEdited.connect(lambda _t: self.edited.emit())
            self.slots[key] = FieldSlot(edit)
            form.addRow(title, self.slots[key].column())
        for key, title, hint in (
            ("software", "Common software", "one program per line"),
            ("ip_addresses", "IP addresses", "one address per line, e.g. 10.0.0.15"),
        ):
            text = QtWidgets.QPlainTextEdit()
            text.setObjectName(key)
            text.setPlaceholderText(hint)
            text.setTabChangesFocus(True)
            text.setFixedHeight(84)
            text.textChanged.connect(self.edited.emit)
            self.slots[key] = FieldSlot(text)
            form.addRow(title, self.slots[key].column())
        self.remove_button = QtWidgets.QPushButton("Remove this computer")
        form.addRow("", self.remove_button)

    def set_value(self, device: dict[str, Any]) -> None:
        for key, _title in DEVICE_TEXT_FIELDS:
            editor = self.slots[key].editor
            assert isinstance(editor, QtWidgets.QLineEdit)
            editor.setText(str(device.get(key, "")))
            editor.setCursorPosition(0)
        for key in ("software", "ip_addresses"):
            editor = self.slots[key].editor
            assert isinstance(editor, QtWidgets.QPlainTextEdit)
            editor.blockSignals(True)
            editor.setPlainText(_lines_text(list(device.get(key, []))))
            editor.blockSignals(False)

    def value(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.device_id}
        for key, _title in DEVICE_TEXT_FIELDS:
            editor = self.slots[key].editor
            assert isinstance(editor, QtWidgets.QLineEdit)
            out[key] = editor.text()
        for key in ("software", "ip_addresses"):
            editor = self.slots[key].editor
            assert isinstance(editor, QtWidgets.QPlainTextEdit)
            out[key] = _text_lines(editor.toPlainText())
        return out

    def title(self) -> str:
        editor = self.slots["computer_name"].editor
        assert isinstance(editor, QtWidgets.QLineEdit)
        return editor.text() or "New computer"


class IssueBanner(QtWidgets.QFrame):
    """A saved edit the server did not take, with the agent's and the server's values."""

    keep_mine = QtCore.Signal(str)
    take_theirs = QtCore.Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setProperty("role", "banner")
        self._layout = QtWidgets.QVBoxLayout(self)
        self.hide()

    def show_issues(self, issues: list[Any]) -> None:
        while self._layout.count():
            item = self._layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for issue in issues:
            self._layout.addWidget(self._issue_widget(issue))
        self.setVisible(bool(issues))

    def _issue_widget(self, issue: Any) -> QtWidgets.QWidget:
        box = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        if issue.state == "conflict":
            lines = ["<b>Someone else changed the same fields while you were editing.</b>"]
            theirs = issue.server_record or {}
            for name in issue.conflicting_fields or tuple(issue.fields):
                mine = _short(issue.fields.get(name))
                other = _short(theirs.get(name))
                lines.append(f"{name}: yours <b>{mine}</b> · on the server <b>{other}</b>")
            mine_label, theirs_label = "Keep mine", "Take the server's"
        else:
            lines = ["<b>The server refused this change:</b>"]
            lines += [f"{field}: {message}" for field, message in issue.errors]
            mine_label, theirs_label = "Send again", "Discard my change"
        text = QtWidgets.QLabel("<br>".join(lines))
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(text)
        buttons = QtWidgets.QHBoxLayout()
        mine_button = QtWidgets.QPushButton(mine_label)
        theirs_button = QtWidgets.QPushButton(theirs_label)
        mine_button.clicked.connect(lambda: self.keep_mine.emit(issue.mutation_id))
        theirs_button.clicked.connect(lambda: self.take_theirs.emit(issue.mutation_id))
        buttons.addWidget(mine_button)
        buttons.addWidget(theirs_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        return box


def _short(value: Any) -> str:
    if isinstance(value, list):
        return f"{len(value)} item(s)"
    text = str(value if value is not None else "—")
    return text if len(text) < 60 else text[:57] + "…"


class SheetView(QtWidgets.QWidget):
    """Layout of one information sheet. Widgets are public for the controller and tests.

    Signals:
        edited(): the agent changed something not yet saved.
    """

    edited = QtCore.Signal()

    def __init__(self) -> None:
        super().__init__()
        self.slots: dict[str, FieldSlot] = {}
        self.device_forms: list[DeviceForm] = []

        self.title = QtWidgets.QLabel("")
        self.title.setProperty("role", "heading")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.badge = QtWidgets.QLabel("")
        self.badge.setTextFormat(Qt.TextFormat.RichText)
        self.subtitle = QtWidgets.QLabel("")
        self.subtitle.setProperty("role", "subtle")
        self.save_state = QtWidgets.QLabel("")
        self.save_state.setProperty("role", "subtle")
        self.banner = IssueBanner()
        self.form_error = QtWidgets.QLabel("")
        self.form_error.setProperty("role", "error")
        self.form_error.setWordWrap(True)
        self.form_error.hide()

        header = QtWidgets.QHBoxLayout()
        header.addWidget(self.title)
        header.addWidget(self.badge)
        header.addStretch(1)
        header.addWidget(self.save_state)

        # Contact
        self.name = _line("Full name", "name")
        self.phones = PhoneList()
        self.email = _line("name@example.com", "email")
        self.organisation = _line("Organisation", "organisation")
        self.location = _line("Where the equipment is: building, floor, room", "location")
        contact = QtWidgets.QGroupBox("Contact")
        contact_form = QtWidgets.QFormLayout(contact)
        contact_editors: tuple[tuple[str, str, QtWidgets.QWidget], ...] = (
            ("name", "Name", self.name),
            ("phones", "Phones", self.phones),
            ("email", "E-mail", self.email),
            ("organisation", "Organisation", self.organisation),
            ("location", "Equipment location", self.location),
        )
        for key, title, editor in contact_editors:
            self.slots[key] = FieldSlot(editor)
            contact_form.addRow(title, self.slots[key].column())

        # Service
        self.tier = QtWidgets.QComboBox()
        self.tier.setObjectName("tier")
        self.tier.addItem("A · critical, now", "A")
        self.tier.addItem("B · in order of arrival", "B")
        self.tier.setToolTip(
            "A: role tied to core operations, solve immediately.\n"
            "B: ordinary user, handled in order of arrival."
        )
        self.account_manager = _line("Account manager", "account_manager")
        self.language = QtWidgets.QComboBox()
        self.language.setObjectName("language")
        for code, title in LANGUAGES.items():
            self.language.addItem(title, code)
        self.timezone = QtWidgets.QComboBox()
        self.timezone.setObjectName("timezone")
        self.timezone.setEditable(True)
        self.timezone.addItems(list(COMMON_TIMEZONES))
        self.timezone.setInsertPolicy(QtWidgets.QComboBox.InsertPolicy.NoInsert)
        self.department = QtWidgets.QLabel("")
        service = QtWidgets.QGroupBox("Service")
        service_form = QtWidgets.QFormLayout(service)
        service_editors: tuple[tuple[str, str, QtWidgets.QWidget], ...] = (
            ("tier", "Tier", self.tier),
            ("account_manager", "Account manager", self.account_manager),
            ("language", "Language", self.language),
            ("timezone", "Time zone", self.timezone),
            ("department", "Department", self.department),
        )
        for key, title, editor in service_editors:
            self.slots[key] = FieldSlot(editor)
            service_form.addRow(title, self.slots[key].column())

        # Computers
        self.devices = QtWidgets.QTabWidget()
        self.devices.setObjectName("devices")
        self.add_device_button = QtWidgets.QPushButton("Add computer")
        self.devices.setCornerWidget(self.add_device_button)
        self.no_devices = QtWidgets.QLabel("No computers on this sheet yet.")
        self.no_devices.setProperty("role", "subtle")
        computers = QtWidgets.QGroupBox("Computers")
        computers_layout = QtWidgets.QVBoxLayout(computers)
        computers_layout.addWidget(self.no_devices)
        computers_layout.addWidget(self.devices)
        self.devices_error = QtWidgets.QLabel("")
        self.devices_error.setProperty("role", "error")
        self.devices_error.hide()
        computers_layout.addWidget(self.devices_error)

        self.revert_button = QtWidgets.QPushButton("Revert")
        self.save_button = QtWidgets.QPushButton("Save")
        self.save_button.setProperty("role", "primary")
        self.save_button.setDefault(True)
        self.save_button.setToolTip("Save (Ctrl+S)")
        buttons = QtWidgets.QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)

        columns = QtWidgets.QHBoxLayout()
        contact.setMinimumWidth(400)
        columns.addWidget(contact, 3)
        columns.addWidget(service, 2)

        body = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(body)
        layout.addLayout(header)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.banner)
        layout.addWidget(self.form_error)
        layout.addLayout(columns)
        layout.addWidget(computers)
        layout.addStretch(1)

        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        # A scroll bar that comes and goes changes the width after wrapped error lines were
        # measured, and clips them; keep it.
        scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll, 1)
        outer.addLayout(buttons)

        for edit in (self.name, self.email, self.organisation, self.location, self.account_manager):
            edit.textEdited.connect(lambda _t: self.edited.emit())
        self.phones.edited.connect(self.edited.emit)
        for combo in (self.tier, self.language, self.timezone):
            combo.activated.connect(lambda _i: self.edited.emit())
        self.timezone.editTextChanged.connect(lambda _t: self.edited.emit())

    # --- filling and reading --------------------------------------------------------------

    def set_values(self, data: dict[str, Any]) -> None:
        self.blockSignals(True)
        self.title.setText(data.get("name") or "New customer")
        self.badge.setText(theme.tier_badge_html(data.get("tier", "B")))
        self.name.setText(data.get("name", ""))
        self.phones.set_values(list(data.get("phones", [])))
        self.email.setText(data.get("email", ""))
        self.organisation.setText(data.get("organisation", ""))
        self.location.setText(data.get("location", ""))
        self.tier.setCurrentIndex(self.tier.findData(data.get("tier", "B")))
        self.account_manager.setText(data.get("account_manager", ""))
        index = self.language.findData(data.get("language", "en"))
        self.language.setCurrentIndex(max(index, 0))
        self.timezone.setCurrentText(data.get("timezone", "UTC"))
        self.department.setText(data.get("department") or "—")
        for edit in (self.name, self.email, self.organisation, self.location):
            edit.setCursorPosition(0)  # show the start of long values, not their end
        self.account_manager.setCursorPosition(0)
        timezone = self.timezone.lineEdit()
        if timezone is not None:
            timezone.setCursorPosition(0)
        # The forms already built are filled again (building one costs a frame or two).
        devices = list(data.get("devices", []))
        for form in self.device_forms[len(devices) :]:
            self.remove_device(form)
        for form, device in zip(self.device_forms, devices, strict=False):
            form.device_id = str(device["id"])
            form.set_value(device)
        for device in devices[len(self.device_forms) :]:
            self.add_device(device)
        if self.device_forms:
            self.devices.setCurrentIndex(0)
        self._sync_devices_placeholder()
        self.blockSignals(False)
        self.clear_errors()

    def add_device(self, device: dict[str, Any]) -> DeviceForm:
        form = DeviceForm(str(device["id"]))
        form.set_value(device)
        form.edited.connect(self.edited.emit)
        form.edited.connect(lambda f=form: self._retitle(f))
        form.remove_button.clicked.connect(lambda _=False, f=form: self._remove_clicked(f))
        self.device_forms.append(form)
        self.devices.addTab(form, form.title())
        self._sync_devices_placeholder()
        return form

    def remove_device(self, form: DeviceForm) -> None:
        index = self.devices.indexOf(form)
        if index >= 0:
            self.devices.removeTab(index)
        self.device_forms.remove(form)
        form.deleteLater()
        self._sync_devices_placeholder()

    def _remove_clicked(self, form: DeviceForm) -> None:
        self.remove_device(form)
        self.edited.emit()

    def _retitle(self, form: DeviceForm) -> None:
        index = self.devices.indexOf(form)
        if index >= 0:
            self.devices.setTabText(index, form.title())

    def _sync_devices_placeholder(self) -> None:
        self.no_devices.setVisible(not self.device_forms)
        self.devices.setVisible(bool(self.device_forms))

    def values(self) -> dict[str, Any]:
        """The sheet's editable fields exactly as typed (the core validates them)."""
        return {
            "name": self.name.text(),
            "phones": self.phones.values(),
            "email": self.email.text(),
            "organisation": self.organisation.text(),
            "location": self.location.text(),
            "tier": self.tier.currentData(),
            "account_manager": self.account_manager.text(),
            "language": self.language.currentData(),
            "timezone": self.timezone.currentText(),
            "devices": [form.value() for form in self.device_forms],
        }

    # --- errors ---------------------------------------------------------------------------

    def clear_errors(self) -> None:
        for slot in self.slots.values():
            slot.show_error(None)
        for row in self.phones.rows:
            row.slot.show_error(None)
        for i, form in enumerate(self.device_forms):
            for slot in form.slots.values():
                slot.show_error(None)
            self.devices.setTabText(i, form.title())
        self.devices_error.hide()
        self.form_error.hide()

    def show_errors(self, errors: dict[str, str]) -> list[str]:
        """Put each message under its field; returns the paths no field could show."""
        self.clear_errors()
        unplaced: list[str] = []
        grouped: dict[tuple[str, int], list[str]] = {}
        for path, message in errors.items():
            head, _, rest = path.partition(".")
            if path in self.slots:
                self.slots[path].show_error(message)
            elif head.startswith("phones[") and self._index(head) < len(self.phones.rows):
                self.phones.rows[self._index(head)].slot.show_error(message)
            elif head.startswith("devices[") and self._index(head) < len(self.device_forms):
                key = rest.split("[")[0] or "computer_name"
                grouped.setdefault((key, self._index(head)), []).append(message)
            else:
                unplaced.append(path)
        for (key, index), messages in grouped.items():
            form = self.device_forms[index]
            form.slots.get(key, form.slots["computer_name"]).show_error("\n".join(messages))
            self.devices.setTabText(index, f"⚠ {form.title()}")
        summary = [self.describe_path(path) for path in errors if path not in unplaced]
        lines = [f"Check {', '.join(dict.fromkeys(summary))}."] if summary else []
        lines += [f"{path}: {errors[path]}" for path in unplaced]
        self.form_error.setText("\n".join(lines))
        self.form_error.setVisible(bool(lines))
        first = next(iter(errors), None)
        if first is not None:
            self._focus(first)
        return unplaced

    def describe_path(self, path: str) -> str:
        """A field path as the agent knows it: ``devices[0].ip_addresses[1]`` →
        "IP addresses of HX-BJ-FIN-01"."""
        head, _, rest = path.partition(".")
        if head.startswith("phones["):
            return f"phone {self._index(head) + 1}"
        if head.startswith("devices[") and self._index(head) < len(self.device_forms):
            key = rest.split("[")[0]
            computer = self.device_forms[self._index(head)].title()
            return f"{DEVICE_FIELD_NAMES.get(key, key)} of {computer}" if key else computer
        return path.replace("_", " ")

    def _focus(self, path: str) -> None:
        head = path.partition(".")[0]
        if path in self.slots:
            self.slots[path].editor.setFocus()
        elif head.startswith("phones[") and self._index(head) < len(self.phones.rows):
            self.phones.rows[self._index(head)].number.setFocus()
        elif head.startswith("devices[") and self._index(head) < len(self.device_forms):
            self.devices.setCurrentIndex(self._index(head))

    @staticmethod
    def _index(head: str) -> int:
        try:
            return int(head[head.index("[") + 1 : head.index("]")])
        except ValueError:
            return 10**9


class EmptySheet(QtWidgets.QLabel):
    """Shown until a customer is opened."""

    def __init__(self) -> None:
        super().__init__(
            "Search for a customer by name, phone, e-mail, organisation, computer name or "
            "IP address, then open their information sheet.\n\nCtrl+F searches · "
            "Ctrl+N creates a new sheet."
        )
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setProperty("role", "subtle")
