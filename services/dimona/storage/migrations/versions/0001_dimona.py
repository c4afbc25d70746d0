"""DIMONA's tables: employers and mandates, workers (the lock rows), periods, declarations, the
employment event log and its counter, the directory outbox and mirror.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "employer",
        sa.Column("onss_number", sa.String(10), nullable=False),
        sa.Column("enterprise_number", sa.String(10), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("joint_committees", sa.JSON(), nullable=False),
        sa.Column("size_class", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint("onss_number", name=op.f("pk_employer")),
    )
    op.create_table(
        "mandate",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("employer", sa.String(10), nullable=False),
        sa.Column("bureau", sa.String(10), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["employer"], ["employer.onss_number"], name=op.f("fk_mandate_employer_employer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mandate")),
    )
    op.create_index("ix_mandate_employer_bureau", "mandate", ["employer", "bureau"])
    op.create_table(
        "worker",
        sa.Column("insz", sa.String(11), nullable=False),
        sa.PrimaryKeyConstraint("insz", name=op.f("pk_worker")),
    )
    op.create_table(
        "period",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("employer", sa.String(10), nullable=False),
        sa.Column("worker", sa.String(11), nullable=False),
        sa.Column("worker_type", sa.String(3), nullable=False),
        sa.Column("joint_committee", sa.String(6), nullable=False),
        sa.Column("sub_entity", sa.String(10), nullable=False),
        sa.Column("using_employer", sa.String(10), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("start_time", sa.SmallInteger(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("end_time", sa.SmallInteger(), nullable=True),
        sa.Column("planned_hours", sa.Integer(), nullable=False),
        sa.Column("flexi_contract", sa.String(8), nullable=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("student_minutes", sa.Integer(), nullable=False),
        sa.Column("exceeding_minutes", sa.Integer(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "id BETWEEN 1 AND 999999999999", name=op.f("ck_period_period_id_12_digits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_period")),
    )
    op.create_index("ix_period_worker_start", "period", ["worker", "start_date"])
    op.create_index("ix_period_employer_id", "period", ["employer", "id"])
    op.create_table(
        "declaration",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("employer", sa.String(10), nullable=False),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("action", sa.String(6), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("anomalies", sa.JSON(), nullable=False),
        sa.Column("period_id", sa.BigInteger(), nullable=False),
        sa.Column("worker", sa.String(11), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by", sa.String(200), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("period_snapshot", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declaration")),
        sa.UniqueConstraint("employer", "reference", name="uq_declaration_key"),
    )
    op.create_table(
        "employment_event",
        sa.Column("sequence", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("period_id", sa.BigInteger(), nullable=False),
        sa.Column("declaration", sa.String(120), nullable=False),
        sa.Column("period", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_employment_event")),
    )
    op.create_table(
        "event_counter",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_event_counter_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_counter")),
    )
    op.execute("INSERT INTO event_counter (id, value) VALUES (1, 0)")
    op.create_table(
        "directory_outbox",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("worker", sa.String(11), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_outbox")),
    )
    op.create_index("ix_directory_outbox_worker", "directory_outbox", ["worker", "id"])
    op.create_table(
        "directory_mirror",
        sa.Column("worker", sa.String(11), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("worker", "start_date", name=op.f("pk_directory_mirror")),
    )


def downgrade() -> None:
    for table in (
        "directory_mirror",
        "directory_outbox",
        "event_counter",
        "employment_event",
        "declaration",
        "period",
        "worker",
        "mandate",
        "employer",
    ):
        op.drop_table(table)
