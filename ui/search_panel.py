"""Search as you type over the local store: the view and its controller."""

from __future__ import annotations

from agentdesk.store.local import SearchResult
from ui import theme
from ui.background import Background
from ui.desk_session import DeskSession
from ui.qt import Qt, QtCore, QtGui, QtWidgets

RESULT_LIMIT = 100
DEBOUNCE_MS = 120


class SearchView(QtWidgets.QWidget):
    """A query field above a list of matching customers."""

    def __init__(self) -> None:
        super().__init__()
        self.query = QtWidgets.QLineEdit()
        self.query.setObjectName("search")
        self.query.setPlaceholderText("Name, phone, e-mail, organisation, computer, IP…")
        self.query.setClearButtonEnabled(True)
        self.results = QtWidgets.QTreeWidget()
        self.results.setObjectName("results")
        self.results.setHeaderLabels(["Customer", "Tier", "Organisation", "Phone"])
        self.results.setRootIsDecorated(False)
        self.results.setUniformRowHeights(True)
        self.results.setAlternatingRowColors(True)
        self.results.header().setStretchLastSection(False)
        self.results.header().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.results.header().setSectionResizeMode(
            1, QtWidgets.QHeaderView.ResizeMode.ResizeToContents
        )
        self.results.header().setSectionResizeMode(2, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.results.header().setSectionResizeMode(
            3, QtWidgets.QHeaderView.ResizeMode.ResizeToContents
        )
        self.count = QtWidgets.QLabel("")
        self.count.setProperty("role", "subtle")
        self.new_button = QtWidgets.QPushButton("New customer")
        self.new_button.setToolTip("Create a new information sheet (Ctrl+N)")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.query)
        layout.addWidget(self.results, 1)
        footer = QtWidgets.QHBoxLayout()
        footer.addWidget(self.count, 1)
        footer.addWidget(self.new_button)
        layout.addLayout(footer)

    def show_results(self, results: SearchResult, query: str) -> None:
        self.results.clear()
        for summary in results:
            item = QtWidgets.QTreeWidgetItem(
                [summary.name, summary.tier, summary.organisation, summary.phone]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, summary.id)
            fg, bg = theme.TIER_COLOURS.get(summary.tier, ("#344054", "#f2f4f7"))
            item.setForeground(1, QtGui.QBrush(QtGui.QColor(fg)))
            item.setBackground(1, QtGui.QBrush(QtGui.QColor(bg)))
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignCenter)
            tip = [summary.name, summary.organisation, summary.phone, summary.email]
            if summary.computers:
                tip.append(f"Computers: {summary.computers}")
            item.setToolTip(0, "\n".join(t for t in tip if t))
            self.results.addTopLevelItem(item)
        self.count.setText(count_text(results, query))
        first_item = self.results.topLevelItem(0)
        if first_item is not None:
            self.results.setCurrentItem(first_item)


def count_text(results: SearchResult, query: str) -> str:
    """What the footer says of a search: how many match, and whether all are listed.

    A search that stopped early (many customers match) lists the first it found and says
    how many it found at least, so the agent keeps typing instead of scrolling.
    """
    shown = len(results)
    if not query.strip():
        return f"{shown} customers" if results.complete else f"First {shown} customers by name"
    if not results.complete:
        if shown == 0:
            return "No match found yet — keep typing to narrow the search"
        return f"{shown} of {results.matches:,}+ matches — keep typing to narrow the search"
    if results.matches == 0:
        return "No customer matches"
    if results.matches > shown:
        return f"{shown} of {results.matches:,} matches — refine the search to see the others"
    return f"{shown} match{'es' if shown != 1 else ''}"


class SearchController(QtCore.QObject):
    """Runs a search shortly after each keystroke; a newer query cancels the older one.

    Signals:
        open_requested(str): the agent picked a customer (id).
        new_requested(): the agent asked for a new sheet.
    """

    open_requested = QtCore.Signal(str)
    new_requested = QtCore.Signal()

    def __init__(self, view: SearchView, session: DeskSession, background: Background) -> None:
        super().__init__(view)
        self.view = view
        self.session = session
        self.background = background
        self._debounce = QtCore.QTimer(self)
        self._debounce.setObjectName("search-debounce")
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.search_now)
        view.query.textChanged.connect(lambda _t: self._debounce.start())
        view.query.returnPressed.connect(self._open_current)
        view.results.itemActivated.connect(lambda item, _c: self._open_item(item))
        view.new_button.clicked.connect(self.new_requested.emit)
        view.query.installEventFilter(self)
        session.records_changed.connect(self._debounce.start)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        # Arrow keys in the query field move through the results.
        if watched is self.view.query and event.type() == QtCore.QEvent.Type.KeyPress:
            key = event.key()  # type: ignore[attr-defined]
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                tree = self.view.results
                current = tree.currentItem()
                row = tree.indexOfTopLevelItem(current) if current is not None else -1
                target = tree.topLevelItem(row + (1 if key == Qt.Key.Key_Down else -1))
                if target is not None:
                    tree.setCurrentItem(target)
                return True
        return super().eventFilter(watched, event)

    def stop(self) -> None:
        self._debounce.stop()
        self.session.records_changed.disconnect(self._debounce.start)

    def search_now(self) -> None:
        query = self.view.query.text()
        store = self.session.store
        self.background.run(
            self.session.runner.read(store.search, query, limit=RESULT_LIMIT),
            name="search",
            success=lambda results: self.view.show_results(results, query),
        )

    def _open_current(self) -> None:
        if self._debounce.isActive():
            # Enter pressed before the results caught up: search first, then open.
            self._debounce.stop()
            query = self.view.query.text()
            store = self.session.store

            def show_and_open(results: SearchResult) -> None:
                self.view.show_results(results, query)
                self._open_item(self.view.results.currentItem())

            self.background.run(
                self.session.runner.read(store.search, query, limit=RESULT_LIMIT),
                name="search",
                success=show_and_open,
            )
            return
        self._open_item(self.view.results.currentItem())

    def _open_item(self, item: QtWidgets.QTreeWidgetItem | None) -> None:
        if item is not None:
            self.open_requested.emit(str(item.data(0, Qt.ItemDataRole.UserRole)))
