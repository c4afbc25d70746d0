"""`python -m inbox` serves; `python -m inbox migrate` only migrates."""

from inbox.server import main

raise SystemExit(main())
