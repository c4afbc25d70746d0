"""`python -m drs` serves; `python -m drs migrate` only migrates the database;
`python -m drs seed` loads the employer register, mandates, DestHa flags and insurers."""

from drs.server import main

raise SystemExit(main())
