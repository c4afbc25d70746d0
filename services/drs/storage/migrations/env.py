"""Alembic environment of the DRS service (see runtime.db.run_migrations_online)."""

from drs.storage.models import Base
from runtime.db import run_migrations_online

run_migrations_online(Base.metadata)
