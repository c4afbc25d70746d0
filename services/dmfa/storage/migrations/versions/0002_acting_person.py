"""The portal: the person who acted for the employer (`version.acting_person`, "" for a
certificate and for every version stored before).

Revision ID: 0002
Revises: 0001
Create Date: 2027-03-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "version",
        sa.Column("acting_person", sa.String(11), server_default="", nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("version") as batch:
        batch.drop_column("acting_person")
