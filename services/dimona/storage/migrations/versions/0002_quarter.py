"""DimonaQuarterService: students' actual minutes per employer and quarter (`student_actuals`),
and the index that serves an employer's active periods in id order (ListEmployerQuarterPeriods).

Revision ID: 0002
Revises: 0001
Create Date: 2027-01-15
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_period_employer_state_id", "period", ["employer", "state", "id"])
    op.create_table(
        "student_actuals",
        sa.Column("employer", sa.String(10), nullable=False),
        sa.Column("worker_insz", sa.String(11), nullable=False),
        sa.Column("year", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("quarter", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "quarter BETWEEN 1 AND 4", name=op.f("ck_student_actuals_quarter_1_to_4")
        ),
        sa.CheckConstraint(
            "minutes BETWEEN 0 AND 132480", name=op.f("ck_student_actuals_minutes_in_a_quarter")
        ),
        sa.PrimaryKeyConstraint(
            "employer", "worker_insz", "year", "quarter", name=op.f("pk_student_actuals")
        ),
    )
    op.create_index("ix_student_actuals_worker_year", "student_actuals", ["worker_insz", "year"])


def downgrade() -> None:
    op.drop_table("student_actuals")
    op.drop_index("ix_period_employer_state_id", table_name="period")
