"""Alembic environment of the demonstration sender (see runtime.db.run_migrations_online)."""

from inbox.sender import METADATA
from runtime.db import run_migrations_online

run_migrations_online(METADATA)
