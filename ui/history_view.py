"""One customer's contact history, newest first, searchable by day, agent, category and text.

GUI only: whoever shows the view hands it the contact records (plain dicts, newest first)
and the agent's time zone; filtering happens in memory with the core's
:func:`~agentdesk.domain.contacts.history_matches`, so the sheet and the server agree on
what a search finds.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping
from typing import Any

from agentdesk.domain.contacts import (
    CATEGORIES,
    CHANNELS,
    OUTCOMES,
    history_matches,
    parse_time,
)
from agentdesk.domain.customers import format_phone
from agentdesk.domain.errors import ValidationFailed
from ui import theme
from ui.qt import Qt, QtCore, QtGui, QtWidgets

COLUMNS = ("When", "Channel", "Agent", "Category", "Outcome", "Summary")
#: Columns the agent may resize, each started at the width of a typical value.
COLUMN_SAMPLES = {
    1: "Instant message",
    2: "Kari Nordmann",
    3: "Telephony",
    4: "Abandoned after 42 s",
}
#: Month names spelled out here, not by strftime, so the desk's locale cannot change them.
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
SUMMARY_LENGTH = 80
#: Text colour of contacts that never reached an agent (the caller hung up first).
MUTED = "#98a2b3"
NO_VALUE = "—"
EMPTY_TEXT = "No contacts yet"
NO_MATCH_TEXT = "No contact matches the search"


# --- how one record reads ---------------------------------------------------------------


def local_time(value: object, tz: dt.tzinfo) -> dt.datetime | None:
    """An ISO 8601 time from a record in the agent's zone; None when missing or unreadable."""
    if not value:
        return None
    try:
        return parse_time(value, "time").astimezone(tz)
    except ValidationFailed:
        return None


def date_time_text(moment: dt.datetime) -> str:
    """``23 Nov 2026 14:05``."""
    return f"{moment.day:02d} {MONTHS[moment.month - 1]} {moment.year} {moment:%H:%M}"


def seconds_text(seconds: float) -> str:
    """``42 s``, ``1 min 35 s``."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes, rest = divmod(whole, 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def category_text(category: str) -> str:
    return category[:1].upper() + category[1:] if category else NO_VALUE


def channel_text(record: Mapping[str, Any]) -> str:
    channel = str(record.get("channel") or "")
    if channel == "visit":
        return "On-site visit"
    return CHANNELS.get(channel, channel or NO_VALUE)


def agent_text(record: Mapping[str, Any]) -> str:
    return str(record.get("owner_name") or record.get("answered_by") or NO_VALUE)


def outcome_text(record: Mapping[str, Any]) -> str:
    """The wrap-up's outcome, or where the contact stands when it was not wrapped up."""
    wrap = record.get("wrap_up") or {}
    if wrap:
        outcome = str(wrap.get("outcome") or "")
        return OUTCOMES.get(outcome, outcome or "Wrapped up")
    state = str(record.get("state") or "")
    if state == "abandoned":
        waited = record.get("waited_s")
        if isinstance(waited, int | float) and not isinstance(waited, bool):
            return f"Abandoned after {seconds_text(waited)}"
        return "Abandoned"
    return {"answered": "Open", "ringing": "Ringing", "ended": "Not wrapped up"}.get(
        state, state or NO_VALUE
    )


def one_line(text: str, limit: int = SUMMARY_LENGTH) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def summary_text(record: Mapping[str, Any]) -> str:
    """The last note, on one line."""
    notes = record.get("notes") or []
    return one_line(str(notes[-1].get("text") or "")) if notes else NO_VALUE


def caller_text(record: Mapping[str, Any]) -> str:
    name = str(record.get("caller_name") or "")
    number = str(record.get("caller_number") or "")
    if number.startswith("+"):
        number = format_phone(number)
    return ", ".join(part for part in (name, number) if part)


def _stamp(value: object, tz: dt.tzinfo, day: dt.date | None) -> str:
    """``HH:MM`` on the contact's own day, the full date and time on any other."""
    moment = local_time(value, tz)
    if moment is None:
        return "--:--"
    return f"{moment:%H:%M}" if moment.date() == day else date_time_text(moment)


def tooltip_html(record: Mapping[str, Any], tz: dt.tzinfo) -> str:
    """Everything said and promised on the contact, for the row's tooltip."""

    def esc(value: object) -> str:
        return html.escape(str(value), quote=False).replace("\n", "<br>")

    offered = local_time(record.get("offered_at"), tz)
    day = offered.date() if offered is not None else None
    direction = "outgoing" if record.get("direction") == "out" else "incoming"
    head = f"<b>{esc(channel_text(record))}</b> · {direction}"
    caller = caller_text(record)
    if caller:
        head += f" · {esc(caller)}"
    if record.get("tier") == "A":
        head += f' <span style="white-space:nowrap">{theme.tier_badge_html("A")}</span>'
    lines = [head]
    when = [date_time_text(offered)] if offered is not None else []
    answered_s = record.get("speed_of_answer_s")
    if isinstance(answered_s, int | float) and not isinstance(answered_s, bool):
        when.append(f"answered after {seconds_text(answered_s)}")
    if record.get("answered_by"):
        when.append(f"by {esc(record['answered_by'])}")
    if when:
        lines.append(" · ".join(when))
    lines.append(esc(outcome_text(record)))
    wrap = record.get("wrap_up") or {}
    if wrap:
        parts = [f"Category: {esc(category_text(str(wrap.get('category') or '')))}"]
        if wrap.get("handed_to"):
            parts.append(f"handed to {esc(wrap['handed_to'])}")
        if wrap.get("by"):
            parts.append(f"wrapped up by {esc(wrap['by'])}")
        lines.append(" · ".join(parts))
    notes = record.get("notes") or []
    if notes:
        lines.append("<b>Notes</b>")
        lines += [
            f"{_stamp(n.get('at'), tz, day)} by {esc(n.get('by') or '?')}: {esc(n.get('text'))}"
            for n in notes
        ]
    promises = record.get("promises") or []
    if promises:
        lines.append("<b>Promises</b>")
        for promise in promises:
            due = local_time(promise.get("due_at"), tz)
            due_text = date_time_text(due) if due is not None else "no due time"
            line = f"Due {due_text}: {esc(promise.get('text') or '')}"
            if promise.get("by"):
                line += f" ({esc(promise['by'])})"
            if promise.get("done_at"):
                line += " ✓ kept"
            lines.append(line)
    return "<qt>" + "<br>".join(lines) + "</qt>"


# --- the view -----------------------------------------------------------------------------


class HistoryView(QtWidgets.QWidget):
    """Filter controls above the list of one customer's contacts, newest first.

    Signals:
        contact_activated(str): the agent opened a contact (double-click or Enter); its id.
    """

    contact_activated = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._records: list[dict[str, Any]] = []
        self._items: list[QtWidgets.QTreeWidgetItem] = []
        self._tz: dt.tzinfo = dt.UTC

        self.text_filter = QtWidgets.QLineEdit()
        self.text_filter.setObjectName("history-text")
        self.text_filter.setPlaceholderText("Search notes, promises, caller…")
        self.text_filter.setClearButtonEnabled(True)
        self.agent_filter = QtWidgets.QLineEdit()
        self.agent_filter.setObjectName("history-agent")
        self.agent_filter.setPlaceholderText("Agent")
        self.agent_filter.setClearButtonEnabled(True)
        self.agent_filter.setMaximumWidth(160)
        self.category_filter = QtWidgets.QComboBox()
        self.category_filter.setObjectName("history-category")
        self.category_filter.addItem("Any category", "")
        for category in CATEGORIES:
            self.category_filter.addItem(category_text(category), category)
        self.day_enabled = QtWidgets.QCheckBox("On day")
        self.day_enabled.setObjectName("history-day-enabled")
        self.day_filter = QtWidgets.QDateEdit()
        self.day_filter.setObjectName("history-day")
        self.day_filter.setCalendarPopup(True)
        self.day_filter.setLocale(
            QtCore.QLocale(QtCore.QLocale.Language.English, QtCore.QLocale.Country.UnitedKingdom)
        )
        self.day_filter.setDisplayFormat("dd MMM yyyy")
        self.day_filter.setDate(QtCore.QDate.currentDate())
        self.day_filter.setEnabled(False)

        self.tree = QtWidgets.QTreeWidget()
        self.tree.setObjectName("history")
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSortingEnabled(False)  # the records come newest first: keep that
        self.tree.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self._size_columns()
        self.empty_label = QtWidgets.QLabel(EMPTY_TEXT)
        self.empty_label.setObjectName("history-empty")
        self.empty_label.setProperty("role", "subtle")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.stack = QtWidgets.QStackedWidget()
        self.stack.addWidget(self.tree)
        self.stack.addWidget(self.empty_label)
        self.count_label = QtWidgets.QLabel("")
        self.count_label.setObjectName("history-count")
        self.count_label.setProperty("role", "subtle")
        self.clear_button = QtWidgets.QPushButton("Clear search")
        self.clear_button.setToolTip("Show every contact again")

        filters = QtWidgets.QHBoxLayout()
        filters.addWidget(self.text_filter, 1)
        filters.addWidget(self.agent_filter)
        filters.addWidget(self.category_filter)
        filters.addWidget(self.day_enabled)
        filters.addWidget(self.day_filter)
        footer = QtWidgets.QHBoxLayout()
        footer.addWidget(self.count_label, 1)
        footer.addWidget(self.clear_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(filters)
        layout.addWidget(self.stack, 1)
        layout.addLayout(footer)

        self.text_filter.textChanged.connect(self._refilter)
        self.agent_filter.textChanged.connect(self._refilter)
        self.category_filter.currentIndexChanged.connect(self._refilter)
        self.day_enabled.toggled.connect(self.day_filter.setEnabled)
        self.day_enabled.toggled.connect(self._refilter)
        self.day_filter.dateChanged.connect(self._refilter)
        self.clear_button.clicked.connect(self.clear_filters)
        self.text_filter.returnPressed.connect(lambda: self._activate(self.tree.currentItem()))
        self.tree.itemDoubleClicked.connect(lambda item, _column: self._activate(item))
        self.tree.installEventFilter(self)
        self._refilter()

    def _size_columns(self) -> None:
        """The date as wide as it needs; channel, agent, category and outcome at a width
        that fits their usual values (longer ones are elided, the tooltip has them all) and
        does not jump as the search hides rows; the summary takes the rest."""
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(60)
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        metrics = self.tree.fontMetrics()
        for column, sample in COLUMN_SAMPLES.items():
            header.setSectionResizeMode(column, QtWidgets.QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, metrics.horizontalAdvance(sample) + 16)

    # --- filling --------------------------------------------------------------------------

    def set_records(self, records: list[dict[str, Any]], *, tz: dt.tzinfo) -> None:
        """Show these contacts (newest first, as given), with times in the zone ``tz``."""
        current = self._current_id()
        self._records = list(records)
        self._tz = tz
        self.tree.clear()
        self._items = [self._item(record) for record in self._records]
        self.tree.addTopLevelItems(self._items)
        self._refilter(keep=current)

    def _item(self, record: Mapping[str, Any]) -> QtWidgets.QTreeWidgetItem:
        offered = local_time(record.get("offered_at"), self._tz)
        wrap = record.get("wrap_up") or {}
        item = QtWidgets.QTreeWidgetItem(
            [
                date_time_text(offered) if offered is not None else NO_VALUE,
                channel_text(record),
                agent_text(record),
                category_text(str(wrap.get("category") or "")),
                outcome_text(record),
                summary_text(record),
            ]
        )
        item.setData(0, Qt.ItemDataRole.UserRole, str(record.get("id") or ""))
        tip = tooltip_html(record, self._tz)
        muted = QtGui.QBrush(QtGui.QColor(MUTED))
        for column in range(len(COLUMNS)):
            item.setToolTip(column, tip)
            if record.get("state") == "abandoned":
                item.setForeground(column, muted)
        return item

    # --- filtering ------------------------------------------------------------------------

    def filters_active(self) -> bool:
        return bool(
            self.text_filter.text().strip()
            or self.agent_filter.text().strip()
            or self.category_filter.currentData()
            or self.day_enabled.isChecked()
        )

    def clear_filters(self) -> None:
        """Back to every contact (one re-filter, not one per control)."""
        controls = (self.text_filter, self.agent_filter, self.category_filter, self.day_enabled)
        for control in controls:
            control.blockSignals(True)
        self.text_filter.clear()
        self.agent_filter.clear()
        self.category_filter.setCurrentIndex(0)
        self.day_enabled.setChecked(False)
        for control in controls:
            control.blockSignals(False)
        self.day_filter.setEnabled(False)
        self._refilter()

    def _matches(self, record: Mapping[str, Any]) -> bool:
        day = self.day_filter.date().toPython() if self.day_enabled.isChecked() else None
        try:
            return history_matches(
                record,
                text=self.text_filter.text().strip(),
                agent=self.agent_filter.text().strip(),
                category=str(self.category_filter.currentData() or ""),
                day=day if isinstance(day, dt.date) else None,
                tz=self._tz,
            )
        except ValidationFailed:
            return False  # no readable time: it cannot be on the chosen day

    def _refilter(self, *_args: object, keep: str | None = None) -> None:
        keep = keep or self._current_id()
        shown = 0
        for record, item in zip(self._records, self._items, strict=True):
            visible = self._matches(record)
            item.setHidden(not visible)
            shown += visible
        total = len(self._records)
        noun = "contact" if total == 1 else "contacts"
        filtered = self.filters_active()
        self.count_label.setText(f"{shown} of {total} {noun}" if filtered else f"{total} {noun}")
        self.clear_button.setEnabled(filtered)
        if shown:
            self.stack.setCurrentWidget(self.tree)
        else:
            self.empty_label.setText(NO_MATCH_TEXT if total else EMPTY_TEXT)
            self.stack.setCurrentWidget(self.empty_label)
        visible_items = [item for item in self._items if not item.isHidden()]
        current = next(
            (item for item in visible_items if item.data(0, Qt.ItemDataRole.UserRole) == keep),
            visible_items[0] if visible_items else None,
        )
        if current is not None:
            self.tree.setCurrentItem(current)
        else:
            self.tree.setCurrentIndex(QtCore.QModelIndex())

    # --- reading and activating -----------------------------------------------------------

    def visible_ids(self) -> list[str]:
        """The ids of the contacts shown, top to bottom."""
        return [
            str(item.data(0, Qt.ItemDataRole.UserRole))
            for item in self._items
            if not item.isHidden()
        ]

    def _current_id(self) -> str | None:
        item = self.tree.currentItem()
        return str(item.data(0, Qt.ItemDataRole.UserRole)) if item is not None else None

    def _activate(self, item: QtWidgets.QTreeWidgetItem | None) -> None:
        if item is not None and not item.isHidden():
            self.contact_activated.emit(str(item.data(0, Qt.ItemDataRole.UserRole)))

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        # Enter opens the current contact (the tree alone would only "activate" it, which
        # some platforms also do on a single click).
        if (
            watched is self.tree
            and isinstance(event, QtGui.QKeyEvent)
            and event.type() == QtCore.QEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self._activate(self.tree.currentItem())
            return True
        return super().eventFilter(watched, event)
