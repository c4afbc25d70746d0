"""Institutions, service providers, authorisations, the reference directory, config version.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "config_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_version")),
    )
    op.execute("INSERT INTO config_version (id, value) VALUES (1, 0)")
    op.create_table(
        "institution",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("network", sa.String(16), nullable=False),
        sa.Column("hub", sa.String(64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sectors", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institution")),
    )
    op.create_table(
        "service_provider",
        sa.Column("service", sa.String(200), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("endpoint", sa.String(200), nullable=False),
        sa.Column("deceased_policy", sa.String(20), nullable=False),
        sa.Column("descriptor_set", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("service", "provider", name=op.f("pk_service_provider")),
    )
    op.create_table(
        "authorisation",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("deliberation", sa.String(100), nullable=False),
        sa.Column("requester", sa.String(64), nullable=False),
        sa.Column("service", sa.String(200), nullable=False),
        sa.Column("method", sa.String(100), nullable=False),
        sa.Column("destination", sa.String(64), nullable=False),
        sa.Column("legal_contexts", sa.JSON(), nullable=False),
        sa.Column("directory_check", sa.String(16), nullable=False),
        sa.Column("capacities", sa.JSON(), nullable=False),
        sa.Column("read_mask_cap", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorisation")),
    )
    op.create_index(op.f("ix_authorisation_requester"), "authorisation", ["requester"])
    op.create_table(
        "directory_entry",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("insz", sa.String(11), nullable=False),
        sa.Column("institution", sa.String(64), nullable=False),
        sa.Column("sector", sa.Integer(), nullable=False),
        sa.Column("code", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_entry")),
    )
    op.create_index(
        "ix_directory_entry_institution_insz", "directory_entry", ["institution", "insz"]
    )
    op.create_index("ix_directory_entry_insz", "directory_entry", ["insz"])


def downgrade() -> None:
    op.drop_table("directory_entry")
    op.drop_table("authorisation")
    op.drop_table("service_provider")
    op.drop_table("institution")
    op.drop_table("config_version")
