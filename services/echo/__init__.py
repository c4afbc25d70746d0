"""The echo service: the smallest real Carrefour service, and the template for new ones.

It echoes payloads (the baseline of `make bench`) and keeps notes in its own database
(idempotent creation, lookups), which exercises every part of the shared runtime.
Layout, as in every service: `config.py` (Settings), `server.py` (composition root),
`transport/` (gRPC servicer and proto mapping), `service/` (business rules, no grpc or
sqlalchemy), `storage/` (models, repository, unit of work, migrations).
"""
