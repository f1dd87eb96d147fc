"""The central REST service: FastAPI on SQLAlchemy, PostgreSQL or SQLite."""
