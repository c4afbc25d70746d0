"""`python -m dimona` serves; `python -m dimona migrate` only migrates the database;
`python -m dimona seed` loads the synthetic employer register and mandates."""

from dimona.server import main

raise SystemExit(main())
