"""The one place the desk imports Qt from, so the binding is chosen once."""

from __future__ import annotations

import os

os.environ.setdefault("QT_API", "pyside6")

import qasync
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt, Signal, Slot

__all__ = ["Qt", "QtCore", "QtGui", "QtWidgets", "Signal", "Slot", "qasync"]
