"""Whether a window can open here, checked before anything else starts."""

from __future__ import annotations

import os
import sys


def display_problem() -> str | None:
    """Why no window can open here, in one line; None when a display is available."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return (
        "AgentDesk needs a display, and none was found (DISPLAY and WAYLAND_DISPLAY are "
        "unset): run it on a desktop, or under a virtual one with `xvfb-run make run`."
    )
