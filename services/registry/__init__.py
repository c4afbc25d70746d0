"""The registry service: the National Register and the BIS register (issue 3).

Persons with their identity, birth, addresses (with history), nationality, civil status, death and
number replacements; BIS number allocation; and a gap-free log of mutation events that later issues
fan out to the institutions that integrated a person. Layout as in every service: `config.py`,
`server.py` (composition root), `transport/` (gRPC servicer, proto mapping), `service/` (rules;
no grpc, no sqlalchemy), `storage/` (models, repositories, unit of work, migrations), plus `seed/`
(`python -m registry seed`: the synthetic population) and `cli.py` (`python -m registry.cli`).
Design decisions are listed in `services/registry/README.md`.
"""
