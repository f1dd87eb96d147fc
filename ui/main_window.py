"""The desk's main window: search on the left, the information sheet on the right."""

from __future__ import annotations

from agentdesk import __version__
from ui.background import Background
from ui.desk_session import DeskSession
from ui.qt import Qt, QtCore, QtGui, QtWidgets
from ui.search_panel import SearchController, SearchView
from ui.sheet_controller import SheetController
from ui.sheet_view import EmptySheet, SheetView
from ui.sync_status import SyncStatusWidget


class MainWindow(QtWidgets.QMainWindow):
    """Everything an agent works in, for one signed-in session.

    Signals:
        sign_out_requested(): the agent chose File → Sign out.
        closed(): the window was closed.
    """

    sign_out_requested = QtCore.Signal()
    closed = QtCore.Signal()

    def __init__(self, session: DeskSession) -> None:
        super().__init__()
        self.session = session
        self.background = Background(self)
        self.setWindowTitle(f"AgentDesk — {session.user.full_name}")
        self.resize(1280, 800)

        self.search_view = SearchView()
        self.sheet_view = SheetView()
        self.empty = EmptySheet()
        self.search = SearchController(self.search_view, session, self.background)
        self.sheet = SheetController(self.sheet_view, session, self.background)

        self.right = QtWidgets.QStackedWidget()
        self.right.addWidget(self.empty)
        self.right.addWidget(self.sheet_view)
        splitter = QtWidgets.QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.search_view)
        splitter.addWidget(self.right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 5)
        splitter.setSizes([470, 810])
        splitter.setContentsMargins(8, 8, 8, 0)
        self.setCentralWidget(splitter)

        self.sync_status = SyncStatusWidget()
        self.user_label = QtWidgets.QLabel(self._user_text())
        self.user_label.setProperty("role", "subtle")
        self.statusBar().addWidget(self.sync_status, 1)
        self.statusBar().addPermanentWidget(self.user_label)
        session.status_changed.connect(self.sync_status.show_status)
        self.sync_status.show_status(session.status)

        self.search.open_requested.connect(self.open_customer)
        self.search.new_requested.connect(self.new_customer)
        self.sheet.opened.connect(lambda _id: self.right.setCurrentWidget(self.sheet_view))
        self.sheet.saved.connect(lambda _id: self.search.search_now())
        self._build_menus()

    def _user_text(self) -> str:
        user = self.session.user
        dept = f" · {user.department}" if user.department else ""
        return f"{user.full_name} ({user.role}{dept})"

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        new = file_menu.addAction("&New customer sheet")
        new.setShortcut(QtGui.QKeySequence.StandardKey.New)
        new.triggered.connect(self.new_customer)
        sync = file_menu.addAction("Sync &now")
        sync.setShortcut(QtGui.QKeySequence("F5"))
        sync.triggered.connect(self.session.wake_sync)
        file_menu.addSeparator()
        sign_out = file_menu.addAction("Sign &out")
        sign_out.triggered.connect(self.sign_out_requested.emit)
        quit_action = file_menu.addAction("&Quit")
        quit_action.setShortcut(QtGui.QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)

        sheet_menu = self.menuBar().addMenu("&Sheet")
        find = sheet_menu.addAction("&Find customer")
        find.setShortcut(QtGui.QKeySequence.StandardKey.Find)
        find.triggered.connect(self.focus_search)
        save = sheet_menu.addAction("&Save sheet")
        save.setShortcut(QtGui.QKeySequence.StandardKey.Save)
        save.triggered.connect(self.sheet.save)

        help_menu = self.menuBar().addMenu("&Help")
        about = help_menu.addAction("&About AgentDesk")
        about.triggered.connect(self._about)

    def focus_search(self) -> None:
        self.search_view.query.setFocus()
        self.search_view.query.selectAll()

    def open_customer(self, customer_id: str) -> None:
        if customer_id == self.sheet.customer_id and not self.sheet.creating:
            self.right.setCurrentWidget(self.sheet_view)
            return
        if self.sheet.confirm_leave(self):
            self.sheet.open(customer_id)

    def new_customer(self) -> None:
        if self.sheet.confirm_leave(self):
            self.sheet.new_sheet()
            self.right.setCurrentWidget(self.sheet_view)

    def _about(self) -> None:
        QtWidgets.QMessageBox.about(
            self,
            "About AgentDesk",
            f"AgentDesk {__version__}\nThe help-desk workspace.\n\nServer: {self.session.server}",
        )

    def shutdown(self) -> None:
        """Stop timers and background jobs; the session is closed by its owner."""
        self.search.stop()
        self.background.cancel_all()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        if not self.sheet.confirm_leave(self):
            event.ignore()
            return
        event.accept()
        self.closed.emit()
