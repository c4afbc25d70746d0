"""`python -m mutuality` serves; `migrate`, `seed --population FILE` and `integrate` prepare."""

from mutuality.server import main

raise SystemExit(main())
