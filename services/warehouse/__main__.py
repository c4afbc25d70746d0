"""`python -m warehouse` serves; `migrate` and `seed` (the research projects) prepare."""

from warehouse.server import main

raise SystemExit(main())
