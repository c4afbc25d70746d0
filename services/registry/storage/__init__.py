"""The registry's database: models, repositories, unit of work, bulk loading, migrations."""

from pathlib import Path

MIGRATIONS = Path(__file__).parent / "migrations"
