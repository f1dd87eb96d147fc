"""Signing in: the dialog (layout) and its controller (behaviour)."""

from __future__ import annotations

from urllib.parse import urlparse

from agentdesk.credentials import TokenVault
from agentdesk.sync.client import ApiError, Offline, ServerTrouble, SignInRequired
from ui.background import Background
from ui.desk_session import DeskSession, SignIn, sign_in
from ui.qt import QtCore, QtWidgets
from ui.sheet_view import FieldSlot


class LoginView(QtWidgets.QDialog):
    """Server, user name, password and "remember me"."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sign in to AgentDesk")
        self.setMinimumWidth(420)
        title = QtWidgets.QLabel("AgentDesk")
        title.setProperty("role", "heading")
        subtitle = QtWidgets.QLabel("Sign in to your help desk")
        subtitle.setProperty("role", "subtle")
        self.server = QtWidgets.QLineEdit()
        self.server.setObjectName("server")
        self.server.setPlaceholderText("http://helpdesk.example.com:8765")
        self.username = QtWidgets.QLineEdit()
        self.username.setObjectName("username")
        self.password = QtWidgets.QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        self.remember = QtWidgets.QCheckBox("Remember me on this computer")
        self.keyring_note = QtWidgets.QLabel("")
        self.keyring_note.setProperty("role", "notice")
        self.keyring_note.setWordWrap(True)
        self.keyring_note.hide()
        self.message = QtWidgets.QLabel("")
        self.message.setProperty("role", "error")
        self.message.setWordWrap(True)
        self.message.hide()
        self.slots = {
            "server": FieldSlot(self.server),
            "username": FieldSlot(self.username),
            "password": FieldSlot(self.password),
        }
        form = QtWidgets.QFormLayout()
        form.addRow("Server", self.slots["server"].column())
        form.addRow("User name", self.slots["username"].column())
        form.addRow("Password", self.slots["password"].column())
        form.addRow("", self.remember)
        self.sign_in_button = QtWidgets.QPushButton("Sign in")
        self.sign_in_button.setProperty("role", "primary")
        self.sign_in_button.setDefault(True)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        buttons = QtWidgets.QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.sign_in_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(subtitle)
        layout.addSpacing(8)
        layout.addLayout(form)
        layout.addWidget(self.keyring_note)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.cancel_button.clicked.connect(self.reject)

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def busy(self, busy: bool) -> None:
        for widget in (self.server, self.username, self.password, self.remember):
            widget.setEnabled(not busy)
        self.sign_in_button.setEnabled(not busy)
        self.sign_in_button.setText("Signing in…" if busy else "Sign in")


def check_form(server: str, username: str, password: str) -> dict[str, str]:
    """Field errors of the sign-in form, before anything is sent."""
    errors: dict[str, str] = {}
    parsed = urlparse(server.strip())
    if not server.strip():
        errors["server"] = "Enter the server address, e.g. http://helpdesk:8765"
    elif parsed.scheme not in ("http", "https") or not parsed.netloc:
        errors["server"] = (
            "Start with http:// or https:// and give the host, e.g. http://helpdesk:8765"
        )
    if not username.strip():
        errors["username"] = "Enter your user name"
    if not password:
        errors["password"] = "Enter your password"
    return errors


class LoginController(QtCore.QObject):
    """Validates the form, signs in off the GUI thread, and hands over the session.

    Signals:
        signed_in(DeskSession): sign-in succeeded.
    """

    signed_in = QtCore.Signal(object)

    def __init__(self, view: LoginView, vault: TokenVault, background: Background) -> None:
        super().__init__(view)
        self.view = view
        self.vault = vault
        self.background = background
        view.sign_in_button.clicked.connect(self.submit)
        view.password.returnPressed.connect(self.submit)
        if not vault.available:
            view.keyring_note.setText(
                f"This computer has no keyring service ({vault.reason}). "
                "“Remember me” keeps your sign-in only until AgentDesk closes; "
                "it is never written to a file."
            )
            view.keyring_note.show()

    def prefill(self, server: str, username: str = "") -> None:
        self.view.server.setText(server)
        self.view.username.setText(username)
        (self.view.password if username else self.view.username).setFocus()

    def submit(self) -> None:
        view = self.view
        errors = check_form(view.server.text(), view.username.text(), view.password.text())
        for name, slot in view.slots.items():
            slot.show_error(errors.get(name))
        if errors:
            view.show_message("")
            view.slots[next(iter(errors))].editor.setFocus()
            return
        form = SignIn(
            server=view.server.text().strip(),
            username=view.username.text().strip(),
            password=view.password.text(),
            remember=view.remember.isChecked(),
        )
        view.busy(True)
        view.show_message("")
        self.background.run(
            sign_in(form, self.vault),
            name="sign-in",
            success=self._succeeded,
            failure=self._failed,
        )

    def _succeeded(self, session: DeskSession) -> None:
        self.view.busy(False)
        self.signed_in.emit(session)
        self.view.accept()

    def _failed(self, error: BaseException) -> None:
        self.view.busy(False)
        server = self.view.server.text().strip()
        if isinstance(error, Offline):
            text = f"Cannot reach the server at {server}. Check the address and your network."
        elif isinstance(error, SignInRequired):
            text = "Incorrect user name or password."
            self.view.password.selectAll()
            self.view.password.setFocus()
        elif isinstance(error, ServerTrouble) and error.status == 429:
            wait = round(error.retry_after or 30)
            text = f"Too many failed sign-ins for this name: try again in {wait} s."
        elif isinstance(error, ServerTrouble):
            text = f"The server is having trouble (HTTP {error.status}). Try again shortly."
        elif isinstance(error, ApiError):
            fields = error.field_errors()
            text = "; ".join(f"{k}: {v}" for k, v in fields.items()) or str(error.detail)
        else:
            self.background.report(error)
            text = "Signing in failed unexpectedly; see the message for details."
        self.view.show_message(text)
