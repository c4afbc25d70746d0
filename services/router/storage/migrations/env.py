"""Alembic environment of the router (see runtime.db.run_migrations_online)."""

import router.storage.message_log  # noqa: F401 - registers the message log tables on Base
from router.storage.models import Base
from runtime.db import run_migrations_online

run_migrations_online(Base.metadata)
