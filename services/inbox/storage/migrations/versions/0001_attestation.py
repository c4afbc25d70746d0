"""The attestation table.

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

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "attestation",
        sa.Column("seq", _SEQ, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("subject_insz", sa.String(11), nullable=False),
        sa.Column("reference_date", sa.Date(), nullable=False),
        sa.Column("sender", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("payload_type", sa.String(128), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("router_ticket", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_attestation")),
        sa.UniqueConstraint("id", name=op.f("uq_attestation_id")),
    )
    op.create_index("ix_attestation_kind_seq", "attestation", ["kind", "seq"])
    op.create_index("ix_attestation_state_seq", "attestation", ["state", "seq"])


def downgrade() -> None:
    op.drop_index("ix_attestation_state_seq", table_name="attestation")
    op.drop_index("ix_attestation_kind_seq", table_name="attestation")
    op.drop_table("attestation")
