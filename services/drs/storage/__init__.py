"""The DRS's database: models, repositories, units of work, migrations."""

from pathlib import Path

MIGRATIONS = Path(__file__).parent / "migrations"
