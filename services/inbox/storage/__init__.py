"""An inbox's database: models, repository, unit of work, migrations."""

from pathlib import Path

MIGRATIONS = Path(__file__).parent / "migrations"
