"""`python -m registry export-population`: the seeded population's living, current numbers, on
SQLite and PostgreSQL — what the demonstration mutualities choose their members from."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.seed.command import export_population, load
from registry.seed.population import (
    FIXED_DECEASED,
    FIXED_MAN,
    FIXED_REPLACED,
    FIXED_REPLACEMENT,
    generate,
)
from registry.storage import MIGRATIONS
from runtime.db import Database

pytestmark = pytest.mark.storage


def test_export_lists_living_current_numbers_in_order_when_the_register_is_seeded(
    database_url: str, tmp_path: Path
) -> None:
    db = Database(database_url)
    try:
        db.migrate(MIGRATIONS)
        load(db, count=300, seed=1)
    finally:
        db.dispose()
    out = tmp_path / "seed" / "population.txt"
    assert export_population(database_url, ["--out", str(out)]) == 0
    exported = out.read_text().splitlines()
    expected = sorted(
        p.record.insz
        for p in generate(300, 1)
        if p.record.death_date is None and p.record.replaced_by is None
    )
    assert exported == expected
    assert FIXED_MAN in exported and FIXED_REPLACEMENT in exported
    assert FIXED_DECEASED not in exported and FIXED_REPLACED not in exported
