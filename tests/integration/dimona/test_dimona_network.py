"""DIMONA in the network: the worker's identity through the router (exists, replaced, deceased,
BIS registration), the reference directory kept at the router (IN, OUT, CANCEL), and the
consultations institutions make through the router."""

from __future__ import annotations

import datetime as dt
import time

import grpc
import pytest

from cbss.dimona.v1 import dimona_pb2, dimona_pb2_grpc
from cbss.router.v1 import directory_pb2, directory_pb2_grpc
from registry.seed.population import (
    FIXED_BIS,
    FIXED_DECEASED,
    FIXED_MAN,
    FIXED_REPLACED,
    FIXED_REPLACEMENT,
    FIXED_WOMAN,
)
from runtime import identity
from runtime.client import failure
from runtime.identifiers import make_insz
from tests.integration.dimona.conftest import Network
from tests.integration.dimona.protos import (
    dimona_in,
    identification,
    submit_cancel,
    submit_in,
    submit_out,
)

pytestmark = pytest.mark.integration

RETAIL = "000100006"
STATE = "000935467"


def submit(network: Network, request, party: str = f"employer-{RETAIL}"):  # noqa: ANN001, ANN201
    with network.dimona_stub(party) as channel:
        return (
            dimona_pb2_grpc.DimonaServiceStub(channel)
            .SubmitDeclaration(request, timeout=20)
            .declaration
        )


def onss_entries(network: Network, insz: str) -> list[tuple[dt.date, dt.date | None]]:
    with network.via_router("onss") as channel:
        reply = directory_pb2_grpc.DirectoryServiceStub(channel).ListEntries(
            directory_pb2.ListEntriesRequest(insz=insz), timeout=10
        )
    out = []
    for e in reply.entries:
        assert (e.capacity.sector, e.capacity.code) == (1, 1)
        end = e.period.end_date
        out.append(
            (
                dt.date(
                    e.period.start_date.year, e.period.start_date.month, e.period.start_date.day
                ),
                dt.date(end.year, end.month, end.day) if e.period.HasField("end_date") else None,
            )
        )
    return out


def wait_for(network: Network, insz: str, expected: list) -> None:  # noqa: ANN001
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if onss_entries(network, insz) == expected:
            return
        time.sleep(0.05)
    assert onss_entries(network, insz) == expected


def test_accepted_in_out_cancel_are_visible_in_the_router_directory_when_dispatched(
    network: Network,
) -> None:
    opened = submit(network, submit_in(RETAIL, "net-in-1", dimona_in(FIXED_WOMAN)))
    assert opened.status == dimona_pb2.DECLARATION_STATUS_ACCEPTED
    wait_for(network, FIXED_WOMAN, [(dt.date(2025, 6, 3), None)])
    ended = submit(network, submit_out(RETAIL, "net-out-1", opened.period_id, dt.date(2025, 6, 30)))
    assert ended.status == dimona_pb2.DECLARATION_STATUS_ACCEPTED
    wait_for(network, FIXED_WOMAN, [(dt.date(2025, 6, 3), dt.date(2025, 6, 30))])
    cancelled = submit(network, submit_cancel(RETAIL, "net-cancel-1", opened.period_id))
    assert cancelled.period.state == dimona_pb2.PERIOD_STATE_CANCELLED
    wait_for(network, FIXED_WOMAN, [])


@pytest.mark.parametrize(
    ("insz", "code", "value"),
    [
        (FIXED_DECEASED, "WORKER_DECEASED", ""),
        (FIXED_REPLACED, "WORKER_INSZ_REPLACED", FIXED_REPLACEMENT),
        (
            make_insz(birth_year=1950, birth_month=1, birth_day=1, serial=997),
            "WORKER_NOT_FOUND",
            "",
        ),
    ],
)
def test_in_is_refused_with_the_registers_answer_when_identity_fails(
    network: Network, insz: str, code: str, value: str
) -> None:
    declared = submit(network, submit_in(RETAIL, f"net-id-{code}", dimona_in(insz)))
    assert declared.status == dimona_pb2.DECLARATION_STATUS_REFUSED and declared.period_id == 0
    assert [(a.code, a.value) for a in declared.anomalies] == [(code, value)]


def test_identity_checks_of_concurrent_declarations_are_answered_each_when_batched(
    network: Network,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    cases = [FIXED_MAN, FIXED_DECEASED, FIXED_REPLACED] * 6

    def one(pair: tuple[int, str]) -> dimona_pb2.Declaration:
        i, insz = pair
        day = dt.date(2025, 6, 10) + dt.timedelta(days=i)
        form = dimona_in(insz, jc="XXX", start=day, end=day)  # no overlap among them
        return submit(network, submit_in(STATE, f"batch-{i}", form), f"employer-{STATE}")

    with ThreadPoolExecutor(len(cases)) as pool:
        answers = list(pool.map(one, enumerate(cases)))
    by_worker: dict[str, set[tuple[str, ...]]] = {}
    for answer, insz in zip(answers, cases, strict=True):
        by_worker.setdefault(insz, set()).add(tuple(a.code for a in answer.anomalies))
    assert by_worker == {
        FIXED_MAN: {()},
        FIXED_DECEASED: {("WORKER_DECEASED",)},
        FIXED_REPLACED: {("WORKER_INSZ_REPLACED",)},
    }


def test_worker_without_insz_gets_a_bis_number_through_the_router_when_declared(
    network: Network,
) -> None:
    first = submit(
        network, submit_in(RETAIL, "net-bis-1", dimona_in(identification=identification()))
    )
    assert first.status == dimona_pb2.DECLARATION_STATUS_ACCEPTED
    assert first.worker_insz[2:4] == "48"  # BIS, sex known: August + 40
    again = submit(
        network,
        submit_in(RETAIL, "net-bis-2", dimona_in(identification=identification(), jc="201")),
    )
    assert again.worker_insz == first.worker_insz  # found as the same person, not a second BIS


def test_institution_lists_a_workers_periods_through_the_router_when_authorised(
    network: Network,
) -> None:
    submit(
        network, submit_in(RETAIL, "net-list-1", dimona_in(FIXED_MAN, start=dt.date(2025, 5, 1)))
    )
    with network.via_router("institution-onem") as channel:
        reply, call = dimona_pb2_grpc.DimonaConsultationServiceStub(
            channel
        ).ListWorkerPeriods.with_call(
            dimona_pb2.ListWorkerPeriodsRequest(insz=FIXED_MAN),
            metadata=[(identity.LEGAL_CONTEXT_HEADER, "unemployment.control")],
            timeout=10,
        )
    assert identity.router_ticket(call)
    assert RETAIL in {p.employer for p in reply.periods}
    assert all(p.worker_insz == FIXED_MAN for p in reply.periods)


def test_family_fund_reads_a_students_balance_through_the_router_when_authorised(
    network: Network,
) -> None:
    submit(
        network,
        submit_in(
            RETAIL,
            "net-stu-1",
            dimona_in(FIXED_WOMAN, worker_type=dimona_pb2.WORKER_TYPE_STU, jc="202",
                      start=dt.date(2025, 7, 1), end=dt.date(2025, 7, 31), hours=700),
        ),
    )  # fmt: skip
    with network.via_router("institution-famiwal") as channel:
        reply = dimona_pb2_grpc.DimonaConsultationServiceStub(channel).GetWorkerStudentBalance(
            dimona_pb2.GetWorkerStudentBalanceRequest(insz=FIXED_WOMAN, year=2025),
            metadata=[(identity.LEGAL_CONTEXT_HEADER, "family-allowances.entitlement")],
            timeout=10,
        )
    assert (reply.balance.quota_hours, reply.balance.exceeding_minutes) == (650, 50 * 60)


@pytest.mark.parametrize(
    ("party", "legal", "reason"),
    [
        ("institution-famiwal", "family-allowances.entitlement", "NOT_AUTHORISED"),
        ("institution-onem", "unemployment.control", "SUBJECT_NOT_INTEGRATED"),
    ],
)
def test_consultation_is_refused_by_the_router_when_not_authorised_or_not_integrated(
    network: Network, party: str, legal: str, reason: str
) -> None:
    # A person ONEM has not integrated (the seed gives ONEM FIXED_MAN and FIXED_WOMAN).
    with network.via_router(party) as channel, pytest.raises(grpc.RpcError) as err:
        dimona_pb2_grpc.DimonaConsultationServiceStub(channel).ListWorkerPeriods(
            dimona_pb2.ListWorkerPeriodsRequest(insz=FIXED_BIS),
            metadata=[(identity.LEGAL_CONTEXT_HEADER, legal)],
            timeout=10,
        )
    assert failure(err.value).reason == reason


def test_consultation_is_refused_when_called_directly(network: Network) -> None:
    with network.dimona_stub("institution-onem") as channel, pytest.raises(grpc.RpcError) as err:
        dimona_pb2_grpc.DimonaConsultationServiceStub(channel).ListWorkerPeriods(
            dimona_pb2.ListWorkerPeriodsRequest(insz=FIXED_MAN), timeout=10
        )
    assert failure(err.value).reason == "DIRECT_ACCESS_FORBIDDEN"
