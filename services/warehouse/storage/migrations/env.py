"""Alembic environment of the warehouse (see runtime.db.run_migrations_online)."""

from runtime.db import run_migrations_online
from warehouse.storage.models import Base

run_migrations_online(Base.metadata)
