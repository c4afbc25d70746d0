"""The registry's tables: persons, addresses, the event log and its counter, idempotency keys,
seed runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op


def ordered_text(length: int) -> sa.types.TypeEngine:
    """Code-point ordered text (the "C" collation on PostgreSQL); see registry.storage.models."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("insz", ordered_text(11), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("first_names", sa.JSON(), nullable=False),
        sa.Column("last_name_norm", ordered_text(200), nullable=False),
        sa.Column("first_names_norm", ordered_text(600), nullable=False),
        sa.Column("sex", sa.String(8), nullable=False),
        sa.Column("birth_year", sa.SmallInteger(), nullable=False),
        sa.Column("birth_month", sa.SmallInteger(), nullable=False),
        sa.Column("birth_day", sa.SmallInteger(), nullable=False),
        sa.Column("birth_place", sa.String(100), nullable=False),
        sa.Column("birth_country", sa.String(2), nullable=False),
        sa.Column("nationality", sa.String(2), nullable=False),
        sa.Column("civil_state", sa.String(10), nullable=False),
        sa.Column("name_since", sa.Date(), nullable=True),
        sa.Column("death_date", sa.Date(), nullable=True),
        sa.Column("death_place", sa.String(100), nullable=False),
        sa.Column("replaced_by", ordered_text(11), nullable=True),
        sa.PrimaryKeyConstraint("insz", name=op.f("pk_person")),
    )
    op.create_index("ix_person_search", "person", ["last_name_norm", "first_names_norm", "insz"])
    # Partial: only replaced numbers; a search (`replaced_by IS NULL`) never picks it.
    op.create_index(
        "ix_person_replaced_by",
        "person",
        ["replaced_by"],
        sqlite_where=sa.text("replaced_by IS NOT NULL"),
        postgresql_where=sa.text("replaced_by IS NOT NULL"),
    )

    op.create_table(
        "address",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("insz", ordered_text(11), nullable=False),
        sa.Column("street", sa.String(100), nullable=False),
        sa.Column("house_number", sa.String(10), nullable=False),
        sa.Column("box", sa.String(10), nullable=False),
        sa.Column("postcode", sa.String(12), nullable=False),
        sa.Column("municipality", sa.String(100), nullable=False),
        sa.Column("country_code", sa.String(2), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["insz"], ["person.insz"], name=op.f("fk_address_insz_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address")),
    )
    op.create_index("ix_address_insz_start", "address", ["insz", "start_date"])

    op.create_table(
        "mutation_event",
        sa.Column("sequence", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("insz", ordered_text(11), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("values_before", sa.JSON(), nullable=True),
        sa.Column("values_after", sa.JSON(), nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_mutation_event")),
    )
    op.create_index("ix_mutation_event_insz", "mutation_event", ["insz"])

    counter = op.create_table(
        "mutation_counter",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_mutation_counter_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mutation_counter")),
    )
    op.bulk_insert(counter, [{"id": 1, "value": 0}])

    op.create_table(
        "idempotency_key",
        sa.Column("caller", sa.String(200), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("operation", sa.String(32), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("caller", "request_id", name=op.f("pk_idempotency_key")),
    )

    op.create_table(
        "seed_run",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("generator_version", sa.Integer(), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("addresses", sa.Integer(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seed_run")),
    )


def downgrade() -> None:
    op.drop_table("seed_run")
    op.drop_table("idempotency_key")
    op.drop_table("mutation_counter")
    op.drop_index("ix_mutation_event_insz", table_name="mutation_event")
    op.drop_table("mutation_event")
    op.drop_index("ix_address_insz_start", table_name="address")
    op.drop_table("address")
    op.drop_index("ix_person_replaced_by", table_name="person")
    op.drop_index("ix_person_search", table_name="person")
    op.drop_table("person")
