"""Alembic environment of the DmfA service (see runtime.db.run_migrations_online)."""

from dmfa.storage.models import Base
from runtime.db import run_migrations_online

run_migrations_online(Base.metadata)
