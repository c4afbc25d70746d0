"""Source positions, event-type grants, subscriptions and the shared outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from runtime.outbox import create_outbox_table, drop_outbox_table

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "source_position",
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("sequence", _SEQ, nullable=False),
        sa.Column("source_last", _SEQ, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_source_position")),
    )
    op.create_table(
        "event_type_grant",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("institution", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("capacities", sa.JSON(), nullable=False),
        sa.Column("deliberation", sa.String(100), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_type_grant")),
    )
    op.create_index(op.f("ix_event_type_grant_institution"), "event_type_grant", ["institution"])
    op.create_table(
        "subscription",
        sa.Column("institution", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("institution", "event_type", name=op.f("pk_subscription")),
    )
    create_outbox_table(op)
    # The lag per institution reads the outbox by destination and status.
    op.create_index(
        "ix_outbox_attestation_destination", "outbox_attestation", ["destination", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_attestation_destination", table_name="outbox_attestation")
    drop_outbox_table(op)
    op.drop_table("subscription")
    op.drop_index(op.f("ix_event_type_grant_institution"), table_name="event_type_grant")
    op.drop_table("event_type_grant")
    op.drop_table("source_position")
