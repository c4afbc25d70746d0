"""`python -m router` serves; `migrate`, `seed` and `verify-log` are its other commands."""

from router.server import main

raise SystemExit(main())
