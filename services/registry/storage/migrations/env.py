"""Alembic environment of the registry service (see runtime.db.run_migrations_online)."""

from registry.storage.models import Base
from runtime.db import run_migrations_online

run_migrations_online(Base.metadata)
