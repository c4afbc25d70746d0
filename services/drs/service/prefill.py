"""The pre-fill: what the network knows for a declaration about a worker on a risk date.

Asked through the router (the Network port), every call with the risk date as its reference
date, in this order:

1. DIMONA's employment on the risk date with this employer (`GetEmploymentOnDate`). None:
   FAILED_PRECONDITION `NOT_WORKERS_EMPLOYER`, and nothing else is asked — an employer that is
   not the worker's employer then makes the network look nothing more up about the person.
2. Then, in parallel: the worker's identity and birth from the register (`GetPerson`, read mask
   `identity,birth`) on the calling thread, and the last closed quarters with this employer from
   the DmfA (`ListWorkerQuarters`, at most 4) on the pre-fill's pool — one pool thread per
   handler thread of the server, so that no pre-fill waits for another's call to end (a pool
   smaller than the handlers queues the DmfA's calls: bench.drs, services/drs/README.md).

Any source that cannot answer now: UNAVAILABLE `PREFILL_UNAVAILABLE` (nothing stored; retry).
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from drs.service import deadlines
from drs.service.model import Prefill, Scenario
from drs.service.ports import Network
from runtime.errors import FailedPrecondition, Unavailable

#: The DmfA's closed quarters asked for (the contract's default and ours).
MAX_QUARTERS = 4
#: The pre-fill pool's threads: the server's handler threads (runtime GRPC_MAX_WORKERS' default).
THREADS = 16


def not_workers_employer() -> FailedPrecondition:
    return FailedPrecondition(
        "NOT_WORKERS_EMPLOYER",
        "no Dimona period of this employer covers the risk date for this worker",
    )


def prefill_unavailable() -> Unavailable:
    return Unavailable(
        "PREFILL_UNAVAILABLE",
        "the register, DIMONA or the DmfA cannot be asked now; nothing was stored, retry",
    )


class Prefiller:
    def __init__(self, network: Network, *, threads: int = THREADS) -> None:
        self._network = network
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="drs-prefill")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def gather(self, employer: str, insz: str, scenario: Scenario, risk_date: dt.date) -> Prefill:
        try:
            employment = self._network.employment(insz, employer, risk_date)
            if employment is None:
                raise not_workers_employer()
            quarters = self._pool.submit(
                self._network.quarters, insz, employer, risk_date, MAX_QUARTERS
            )
            return Prefill(
                worker=self._network.worker(insz, risk_date),
                employment=employment,
                quarters=tuple(quarters.result()),
                deadline=deadlines.deadline(scenario, risk_date),
            )
        except Unavailable:
            raise prefill_unavailable() from None
