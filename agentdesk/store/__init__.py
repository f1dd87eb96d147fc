"""The desk's local store and the executor that keeps its I/O off the GUI thread."""
