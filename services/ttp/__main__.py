"""`python -m ttp` serves (`migrate` does nothing: the TTP has no database)."""

from ttp.server import main

raise SystemExit(main())
