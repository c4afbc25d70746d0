"""`python -m portal`: the portal's HTTPS server (pages, /openapi.json, the dev /idp/)."""

from portal.server import main

raise SystemExit(main())
