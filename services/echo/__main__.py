"""`python -m echo` serves; `python -m echo migrate` only migrates the database."""

from echo.server import main

raise SystemExit(main())
