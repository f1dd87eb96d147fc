"""The desk: PySide6 presentation on top of the Qt-free core in ``agentdesk``."""
