"""Alembic environment of the mutation service (see runtime.db.run_migrations_online)."""

from mutation.storage.models import Base
from runtime.db import run_migrations_online

run_migrations_online(Base.metadata)
