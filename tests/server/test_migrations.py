"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from agentdesk.server.db import alembic_config
from agentdesk.server.models import Base
from tests.conftest import LiveServer


def test_migrated_database_matches_the_models(live_server: LiveServer) -> None:
    # Given: the live server's database, migrated by the server's own start-up
    engine = create_engine(live_server.db_url)

    # When
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
            revision = context.get_current_revision()
    finally:
        engine.dispose()

    # Then
    assert differences == []
    head = ScriptDirectory.from_config(alembic_config(live_server.db_url)).get_current_head()
    assert revision == head
