"""The affiliation table.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "affiliation",
        sa.Column("insz", sa.String(11), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("insurability", sa.String(10), nullable=False),
        sa.Column("integrated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("insz", "since", name=op.f("pk_affiliation")),
    )
    op.create_index(
        "ix_affiliation_not_integrated",
        "affiliation",
        ["insz"],
        sqlite_where=sa.text("integrated_at IS NULL"),
        postgresql_where=sa.text("integrated_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_affiliation_not_integrated", table_name="affiliation")
    op.drop_table("affiliation")
