"""A mutuality (health-insurance fund) of the secondary network behind the mutualities' hub.

One program, many instances: each process is one mutuality (`MUTUALITY_ID=mut-100`), presents
that institution's certificate and keeps its members in its own database. It answers
`GetAffiliation` to routers only, and integrates its members in the reference directory at its
hub, which integrates them at the primary router under the hub's identity. A demonstration of an
institution-owned service on the shared runtime: `python -m mutuality seed` makes a deterministic
share of the registry's seeded population its members (`service/membership.py`).
"""
