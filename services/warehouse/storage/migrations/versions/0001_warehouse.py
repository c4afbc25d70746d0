"""The research data warehouse's tables: projects and grants, the extraction log, built
quarters, coded records, positions, published cells, the export log.

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


def upgrade() -> None:
    op.create_table(
        "coded_period",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("project", sa.String(length=40), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("quarter", sa.SmallInteger(), nullable=False),
        sa.Column("person", sa.String(length=32), nullable=False),
        sa.Column("employer", sa.String(length=10), nullable=False),
        sa.Column("worker_type", sa.String(length=3), nullable=False),
        sa.Column("joint_committee", sa.String(length=8), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coded_period")),
    )
    op.create_index(
        "ix_coded_period_quarter_person",
        "coded_period",
        ["project", "year", "quarter", "person"],
        unique=False,
    )
    op.create_table(
        "coded_person",
        sa.Column("project", sa.String(length=40), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("quarter", sa.SmallInteger(), nullable=False),
        sa.Column("person", sa.String(length=32), nullable=False),
        sa.Column("age", sa.SmallInteger(), nullable=True),
        sa.Column("sex", sa.String(length=8), nullable=False),
        sa.Column("postcode", sa.String(length=12), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.PrimaryKeyConstraint(
            "project", "year", "quarter", "person", name=op.f("pk_coded_person")
        ),
    )
    op.create_table(
        "coded_worker_record",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("project", sa.String(length=40), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("quarter", sa.SmallInteger(), nullable=False),
        sa.Column("person", sa.String(length=32), nullable=False),
        sa.Column("employer", sa.String(length=10), nullable=False),
        sa.Column("worker_code", sa.String(length=3), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("pay", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coded_worker_record")),
    )
    op.create_index(
        "ix_coded_worker_record_quarter_person",
        "coded_worker_record",
        ["project", "year", "quarter", "person"],
        unique=False,
    )
    op.create_table(
        "export_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("project", sa.String(length=40), nullable=False),
        sa.Column("requester", sa.String(length=200), nullable=False),
        sa.Column("quarters", sa.String(length=400), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("microdata", sa.Boolean(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_log")),
    )
    op.create_table(
        "extraction",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("project", sa.String(length=40), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("quarter", sa.SmallInteger(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
        sa.Column("router_ticket", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extraction")),
    )
    op.create_index(
        "ix_extraction_project_year_quarter",
        "extraction",
        ["project", "year", "quarter"],
        unique=False,
    )
    op.create_table(
        "position",
        sa.Column("project", sa.String(length=40), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("quarter", sa.SmallInteger(), nullable=False),
        sa.Column("person", sa.String(length=32), nullable=False),
        sa.Column("position", sa.String(length=20), nullable=False),
        sa.Column("worker_class", sa.String(length=16), nullable=False),
        sa.Column("joint_committee", sa.String(length=8), nullable=False),
        sa.Column("employers", sa.SmallInteger(), nullable=False),
        sa.Column("age_band", sa.String(length=8), nullable=False),
        sa.Column("sex", sa.String(length=8), nullable=False),
        sa.Column("region", sa.String(length=10), nullable=False),
        sa.Column("pay", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("project", "year", "quarter", "person", name=op.f("pk_position")),
    )
    op.create_index("ix_position_project_person", "position", ["project", "person"], unique=False)
    op.create_table(
        "quarter_build",
        sa.Column("project", sa.String(length=40), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("quarter", sa.SmallInteger(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("in_work", sa.Integer(), nullable=False),
        sa.Column("cells", sa.Integer(), nullable=False),
        sa.Column("primary_suppressed", sa.Integer(), nullable=False),
        sa.Column("secondary_suppressed", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.SmallInteger(), nullable=False),
        sa.Column("dominance_percent", sa.SmallInteger(), nullable=False),
        sa.Column("extractions", sa.JSON(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("project", "year", "quarter", name=op.f("pk_quarter_build")),
    )
    op.create_table(
        "research_project",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("unlinkable", sa.Boolean(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_research_project")),
    )
    op.create_table(
        "table_cell",
        sa.Column("project", sa.String(length=40), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("quarter", sa.SmallInteger(), nullable=False),
        sa.Column("table_id", sa.String(length=40), nullable=False),
        sa.Column("cell_key", sa.String(length=200), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("persons", sa.BigInteger(), nullable=False),
        sa.Column("pay", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint(
            "project", "year", "quarter", "table_id", "cell_key", name=op.f("pk_table_cell")
        ),
    )
    op.create_table(
        "project_grant",
        sa.Column("project", sa.String(length=40), nullable=False),
        sa.Column("institution", sa.String(length=63), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("microdata", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project"],
            ["research_project.id"],
            name=op.f("fk_project_grant_project_research_project"),
        ),
        sa.PrimaryKeyConstraint(
            "project", "institution", "valid_from", name=op.f("pk_project_grant")
        ),
    )


def downgrade() -> None:
    op.drop_table("project_grant")
    op.drop_table("table_cell")
    op.drop_table("research_project")
    op.drop_table("quarter_build")
    op.drop_index("ix_position_project_person", table_name="position")
    op.drop_table("position")
    op.drop_index("ix_extraction_project_year_quarter", table_name="extraction")
    op.drop_table("extraction")
    op.drop_table("export_log")
    op.drop_index("ix_coded_worker_record_quarter_person", table_name="coded_worker_record")
    op.drop_table("coded_worker_record")
    op.drop_table("coded_person")
    op.drop_index("ix_coded_period_quarter_person", table_name="coded_period")
    op.drop_table("coded_period")
