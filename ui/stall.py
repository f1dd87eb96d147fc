"""The event-loop stall probe: a 10 ms timer on the GUI thread, and the longest gap between
its ticks. A gap well over 10 ms means the desk froze for that long (work done on the GUI
thread that belongs elsewhere). Used by the benchmarks and by tests."""

from __future__ import annotations

import time

from ui.qt import QtCore

INTERVAL_MS = 10


class StallProbe(QtCore.QObject):
    """Measures how late the GUI thread serves a 10 ms timer."""

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QtCore.QTimer(self)
        self._timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0
        self.gaps: list[float] = []

    def start(self) -> None:
        self.gaps = []
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self._last) * 1000)
        self._last = now

    @property
    def worst_ms(self) -> float:
        """The longest gap between ticks (ms); the stall is this minus the 10 ms interval."""
        return max(self.gaps, default=0.0)

    def percentile(self, share: float) -> float:
        if not self.gaps:
            return 0.0
        ordered = sorted(self.gaps)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
