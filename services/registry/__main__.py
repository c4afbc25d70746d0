"""`python -m registry` serves; `python -m registry migrate` only migrates the database;
`python -m registry seed [--count N] [--seed S]` loads the synthetic population."""

from registry.server import main

raise SystemExit(main())
