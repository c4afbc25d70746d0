"""The portal: the person who acted for the employer (`declaration.acting_person`, "" for a
certificate and for every declaration stored before), and the index that serves a worker's
declarations newest first (DrsConsultationService.ListWorkerDeclarations).

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
        "declaration",
        sa.Column("acting_person", sa.String(11), server_default="", nullable=False),
    )
    op.create_index("ix_declaration_insz_id", "declaration", ["insz", "id"])


def downgrade() -> None:
    op.drop_index("ix_declaration_insz_id", table_name="declaration")
    with op.batch_alter_table("declaration") as batch:
        batch.drop_column("acting_person")
