"""Alembic environment of a mutuality (see runtime.db.run_migrations_online)."""

from mutuality.storage.models import Base
from runtime.db import run_migrations_online

run_migrations_online(Base.metadata)
