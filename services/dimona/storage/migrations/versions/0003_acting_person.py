"""The portal: the person who acted for the employer (`declaration.acting_person`, "" for a
certificate and for every declaration stored before).

Revision ID: 0003
Revises: 0002
Create Date: 2027-03-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "declaration",
        sa.Column("acting_person", sa.String(11), server_default="", nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("declaration") as batch:
        batch.drop_column("acting_person")
