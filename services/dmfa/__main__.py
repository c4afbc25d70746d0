"""`python -m dmfa` serves; `python -m dmfa migrate` only migrates the database;
`python -m dmfa seed` loads the employer register and mandates; `python -m dmfa seed-quarter`
submits a quarter of declarations consistent with DIMONA's periods."""

from dmfa.server import main

raise SystemExit(main())
