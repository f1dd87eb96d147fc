"""engineers' visits to customers

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "visits",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("engineer_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"]),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.ForeignKeyConstraint(["engineer_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("seq", "department_id", "customer_id", "engineer_id", "state", "window_start"):
        op.create_index(f"ix_visits_{column}", "visits", [column])


def downgrade() -> None:
    op.drop_table("visits")
