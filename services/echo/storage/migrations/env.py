"""Alembic environment of the echo service (see runtime.db.run_migrations_online)."""

from echo.storage.models import Base
from runtime.db import run_migrations_online

run_migrations_online(Base.metadata)
