"""A provider reached through a hub router.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service_provider") as batch:
        batch.add_column(sa.Column("via_router", sa.String(64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("service_provider") as batch:
        batch.drop_column("via_router")
