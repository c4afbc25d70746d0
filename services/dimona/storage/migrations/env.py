"""Alembic environment of the DIMONA service (see runtime.db.run_migrations_online)."""

from dimona.storage.models import Base
from runtime.db import run_migrations_online

run_migrations_online(Base.metadata)
