"""The warehouse's own database: models, the store, migrations."""

from pathlib import Path

MIGRATIONS = Path(__file__).parent / "migrations"
