"""messages for colleagues, who may see them, events for a few users, users' time zones

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("urgency", sa.String(length=8), nullable=False),
        sa.Column("for_user_id", sa.String(length=36), nullable=True),
        sa.Column("for_department_id", sa.Integer(), nullable=True),
        sa.Column("taken_by_id", sa.String(length=36), nullable=False),
        sa.Column("callback_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["for_user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["for_department_id"], ["departments.id"]),
        sa.ForeignKeyConstraint(["taken_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("seq", "state", "for_user_id", "for_department_id", "taken_by_id"):
        op.create_index(f"ix_messages_{column}", "messages", [column])
    op.create_index("ix_messages_callback_before", "messages", ["callback_before"])
    op.create_table(
        "message_parties",
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("message_id", "user_id"),
    )
    op.create_index("ix_message_parties_user_id", "message_parties", ["user_id"])
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audience", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("timezone", sa.String(length=64), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("timezone")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("audience")
    op.drop_index("ix_message_parties_user_id", table_name="message_parties")
    op.drop_table("message_parties")
    op.drop_table("messages")
