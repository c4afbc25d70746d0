"""Delivery modes and the STREAM subscribers' notifications.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "subscriber",
        sa.Column("institution", sa.String(64), nullable=False),
        sa.Column("delivery", sa.String(8), nullable=False),
        sa.Column("acknowledged_sequence", _SEQ, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("institution", name=op.f("pk_subscriber")),
    )
    op.create_table(
        "stream_notification",
        sa.Column("seq", _SEQ, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("institution", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("insz", sa.String(11), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_stream_notification")),
        sa.UniqueConstraint("id", name=op.f("uq_stream_notification_id")),
    )
    op.create_index(
        "ix_stream_notification_institution_seq", "stream_notification", ["institution", "seq"]
    )


def downgrade() -> None:
    op.drop_index("ix_stream_notification_institution_seq", table_name="stream_notification")
    op.drop_table("stream_notification")
    op.drop_table("subscriber")
