"""Alembic environment of an inbox (see runtime.db.run_migrations_online)."""

from inbox.storage.models import Base
from runtime.db import run_migrations_online

run_migrations_online(Base.metadata)
