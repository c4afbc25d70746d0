"""The message log and its signed checkpoints.

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
        "message_log",
        sa.Column("chain_id", sa.String(100), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("ticket", sa.String(36), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requester", sa.String(255), nullable=False),
        sa.Column("service", sa.String(255), nullable=False),
        sa.Column("method", sa.String(255), nullable=False),
        sa.Column("legal_context", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(11), nullable=False),
        sa.Column("capacity", sa.String(32), nullable=False),
        sa.Column("destination", sa.String(255), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("latency_us", sa.BigInteger(), nullable=False),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("request_digest", sa.String(64), nullable=False),
        sa.Column("response_digest", sa.String(64), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "seq", name=op.f("pk_message_log")),
    )
    op.create_index(op.f("ix_message_log_ticket"), "message_log", ["ticket"])
    op.create_index(op.f("ix_message_log_subject"), "message_log", ["subject"])
    op.create_table(
        "log_checkpoint",
        sa.Column("chain_id", sa.String(100), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("signer_cert_pem", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "seq", "final", name=op.f("pk_log_checkpoint")),
    )


def downgrade() -> None:
    op.drop_table("log_checkpoint")
    op.drop_index(op.f("ix_message_log_subject"), table_name="message_log")
    op.drop_index(op.f("ix_message_log_ticket"), table_name="message_log")
    op.drop_table("message_log")
