"""The trusted third party (TTP) of the CBSS's research data warehouse: pseudonymisation.

Its own process (`institution/cbss-ttp`), the only party that sees the institutions' research
extractions with their INSZs. For the warehouse (`institution/cbss-dwh`, the only caller), it
extracts one source's quarter through the router — DIMONA's periods, the DmfA's worker quarters,
the register's demographics, each a routed, server-streaming method granted to it under the
legal context `research.labour-market` — replaces every INSZ by the project's code and streams
the coded records on. It keeps nothing but its keys (no database): files outside the warehouse,
one per unlinkable project plus a common one (service/coding.py, storage/keys.py).
"""
