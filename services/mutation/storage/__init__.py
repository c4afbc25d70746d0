"""The mutation service's database: positions, grants, subscriptions, the outbox."""

from pathlib import Path

MIGRATIONS = Path(__file__).parent / "migrations"
