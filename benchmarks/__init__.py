"""Runnable benchmarks of AgentDesk: they print figures, they are not tests (see README.md)."""
