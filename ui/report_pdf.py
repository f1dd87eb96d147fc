"""Documents printed to PDF: A4, the desk's fonts (so Chinese renders with real glyphs), and
the signature images embedded."""

from __future__ import annotations

from pathlib import Path

from ui.qt import QtCore, QtGui


def write_pdf(path: Path, html: str, images: dict[str, QtGui.QImage] | None = None) -> Path:
    """Print ``html`` to ``path``; ``images`` supplies the pictures it names. Safe off the GUI
    thread (it paints on the PDF, not on the screen)."""
    writer = QtGui.QPdfWriter(str(path))
    writer.setPageSize(QtGui.QPageSize(QtGui.QPageSize.PageSizeId.A4))
    writer.setPageMargins(QtCore.QMarginsF(18, 18, 18, 18), QtGui.QPageLayout.Unit.Millimeter)
    writer.setResolution(300)
    writer.setTitle(Path(path).stem)
    writer.setCreator("AgentDesk")
    document = QtGui.QTextDocument()
    font = QtGui.QFont()
    font.setPointSize(10)
    document.setDefaultFont(font)
    for name, picture in (images or {}).items():
        document.addResource(
            QtGui.QTextDocument.ResourceType.ImageResource, QtCore.QUrl(name), picture
        )
    document.setHtml(html)
    document.print_(writer)
    return path
