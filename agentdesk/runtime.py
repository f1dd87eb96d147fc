"""Process-wide settings of the server and the desk, applied once they have started."""

from __future__ import annotations

import gc


def freeze_start_up() -> None:
    """Keep what start-up made (modules, the app, the tables, the main window) out of the
    cycle collector's scans from now on.

    Those objects live as long as the process, yet every full collection walked them all:
    about 30 ms of pause in the middle of a pushed batch or of a sync page on the GUI
    thread. Frozen, a full collection looks only at objects made since. (Freezing is
    instant; no collection runs first, so the few cycles already garbage stay.)
    """
    gc.freeze()
