"""`python -m mutation` serves; `python -m mutation migrate` only migrates; `seed` grants."""

from mutation.server import main

raise SystemExit(main())
