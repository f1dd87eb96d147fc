"""AgentDesk core: domain rules, local store, sync engine, the REST server and the command line.

Nothing in this package imports Qt; the desk in ``ui/`` builds on it.
"""

__version__ = "0.1.0"
