"""Domain model and rules of the help desk, free of storage and presentation."""
