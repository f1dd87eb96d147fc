"""failed sign-ins, for throttling; client ids of published standard answers

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("standard_answers") as batch:
        batch.add_column(sa.Column("publish_id", sa.String(length=36), nullable=True))
        batch.create_unique_constraint("uq_standard_answers_publish_id", ["publish_id"])


def downgrade() -> None:
    with op.batch_alter_table("standard_answers") as batch:
        batch.drop_constraint("uq_standard_answers_publish_id", type_="unique")
        batch.drop_column("publish_id")
    op.drop_table("login_failures")
