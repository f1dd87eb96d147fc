"""Fonts, colours and the style sheet of the desk."""

from __future__ import annotations

import logging
from pathlib import Path

from ui.qt import QtGui, QtWidgets

log = logging.getLogger(__name__)

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
FONTS = RESOURCES / "fonts"
ICON = RESOURCES / "icons" / "agentdesk.svg"

#: Shipped fonts: DejaVu Sans for Latin, Greek and Cyrillic, Droid Sans Fallback for
#: Chinese, so every name renders with real glyphs even on a machine without fonts.
FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DroidSansFallbackFull.ttf")
FONT_FAMILIES = ["DejaVu Sans", "Droid Sans Fallback"]

TIER_COLOURS = {"A": ("#b42318", "#fee4e2"), "B": ("#175cd3", "#d1e9ff")}
STATE_COLOURS = {
    "up to date": "#12b76a",
    "syncing": "#2e90fa",
    "offline": "#98a2b3",
    "server error": "#f79009",
    "sign-in required": "#f04438",
}

STYLE = """
QWidget { font-size: 10pt; }
QLineEdit, QPlainTextEdit, QComboBox { padding: 3px 5px; border: 1px solid #c4c9d4;
    border-radius: 4px; background: #ffffff; }
QLineEdit:focus, QPlainTextEdit:focus, QComboBox:focus { border: 1px solid #2e90fa; }
QLineEdit[invalid="true"], QPlainTextEdit[invalid="true"] { border: 1px solid #d92d20;
    background: #fff6f5; }
QLabel[role="error"] { color: #b42318; font-size: 9pt; }
QLabel[role="heading"] { font-size: 15pt; font-weight: bold; }
QLabel[role="subtle"] { color: #667085; }
QLabel[role="notice"] { background: #fffaeb; border: 1px solid #fec84b; border-radius: 4px;
    padding: 6px; color: #7a2e0e; }
QFrame[role="banner"] { background: #fef3f2; border: 1px solid #fda29b; border-radius: 4px; }
QGroupBox { font-weight: bold; border: 1px solid #e4e7ec; border-radius: 6px;
    margin-top: 10px; padding: 8px 6px 6px 6px; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 4px; }
QPushButton { padding: 4px 12px; }
QPushButton[role="primary"] { background: #1570ef; color: white; border: none;
    border-radius: 4px; padding: 5px 14px; }
QPushButton[role="primary"]:disabled { background: #b2ccff; }
QTreeWidget { border: 1px solid #e4e7ec; }
"""


def load_fonts() -> list[str]:
    """Register the shipped fonts; returns the families Qt now knows from them."""
    families: list[str] = []
    for name in FONT_FILES:
        font_id = QtGui.QFontDatabase.addApplicationFont(str(FONTS / name))
        if font_id < 0:
            log.warning("could not load font %s", FONTS / name)
            continue
        families += QtGui.QFontDatabase.applicationFontFamilies(font_id)
    return families


def apply(app: QtWidgets.QApplication) -> None:
    """Fonts and style for the whole desk."""
    load_fonts()
    font = QtGui.QFont()
    font.setFamilies(FONT_FAMILIES)
    font.setPointSize(10)
    app.setFont(font)
    app.setStyle("Fusion")
    app.setWindowIcon(QtGui.QIcon(str(ICON)))
    app.setStyleSheet(STYLE)


def tier_badge_html(tier: str) -> str:
    fg, bg = TIER_COLOURS.get(tier, ("#344054", "#f2f4f7"))
    label = "Tier A · critical" if tier == "A" else f"Tier {tier}"
    return (
        f'<span style="background:{bg}; color:{fg}; font-weight:bold;">&nbsp;{label}&nbsp;</span>'
    )


def set_invalid(widget: QtWidgets.QWidget, invalid: bool) -> None:
    """Mark an editor as holding an invalid value (restyles it)."""
    if widget.property("invalid") == invalid:
        return
    widget.setProperty("invalid", invalid)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
