"""The router's database: models, the message log writer, migrations."""

from pathlib import Path

MIGRATIONS = Path(__file__).parent / "migrations"
