"""The synthetic population: `python -m registry seed [--count N] [--seed S]`.

`population` generates persons deterministically from (seed, count), with no database and no
clock; `command` loads them in one transaction with bulk inserts and records the run in
`seed_run`, so that running it again for the same (seed, count) does nothing.
"""
