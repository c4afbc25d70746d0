"""Concurrent changes: a gap-free event sequence, consistent addresses, BIS numbers never twice."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from registry_rpc import Rows, Stub, day, get_person

from cbss.common.v1 import types_pb2
from cbss.registry.v1 import registry_pb2 as R
from runtime.client import failure
from runtime.identifiers import InszKind, Sex, parse_insz

pytestmark = pytest.mark.integration

THREADS, EACH = 8, 10


def register(
    stub: Callable[[str], Stub], request_id: str, **fields: object
) -> R.RegisterBisNumberResponse:
    request = R.RegisterBisNumberRequest(
        request_id=request_id,
        last_name="Concurrent",
        first_names=[request_id],
        sex=types_pb2.SEX_FEMALE,
        birth_date=day(1977, 7, 7),
        force_new=True,
    )
    for name, value in fields.items():
        if name == "birth_date":
            request.birth_date.CopyFrom(value)
        else:
            setattr(request, name, value)
    return stub("institution-cbss").RegisterBisNumber(request, timeout=30)


def move(
    stub: Callable[[str], Stub], insz: str, request_id: str, when: tuple[int, int, int], n: int
):
    return stub("institution-cbss").ChangeAddress(
        R.ChangeAddressRequest(
            insz=insz,
            request_id=request_id,
            address=types_pb2.Address(
                street=f"Street {n}",
                house_number=str(n),
                postcode="1000",
                municipality="Bruxelles",
                country_code="BE",
            ),
            effective_date=day(*when),
        ),
        timeout=30,
    )


def whole_log(stub: Callable[[str], Stub]) -> tuple[list[int], int]:
    seen, after, last = [], 0, 0
    while True:
        page = stub("router").ListMutationEvents(
            R.ListMutationEventsRequest(after_sequence=after, page_size=1000), timeout=30
        )
        last = page.last_sequence
        if not page.events:
            return seen, last
        seen.extend(e.sequence for e in page.events)
        after = seen[-1]


def as_date(value: object) -> dt.date:
    return dt.date(value.year, value.month, value.day)  # type: ignore[attr-defined]


def dates() -> list[tuple[int, int, int]]:
    """EACH increasing dates in 2024."""
    return [(2024, 1 + i, 1) for i in range(EACH)]


def test_sequence_is_gap_free_when_threads_change_addresses_at_once(stub, rows: Rows) -> None:
    people = [register(stub, f"gap-{t}").insz for t in range(THREADS)]

    def worker(t: int) -> list[int]:
        return [
            move(stub, people[t], f"gap-{t}-{i}", when, i).event.sequence
            for i, when in enumerate(dates())
        ]

    with ThreadPoolExecutor(THREADS) as pool:
        sequences = [s for got in pool.map(worker, range(THREADS)) for s in got]
    assert len(set(sequences)) == THREADS * EACH
    log, last = whole_log(stub)
    assert log == list(range(1, last + 1))
    assert rows.counts()["mutation_event"] == last
    assert rows.scalar("SELECT value FROM mutation_counter") == last


def test_person_keeps_one_consistent_history_when_threads_move_it_at_once(stub, rows: Rows) -> None:
    insz = register(stub, "same-person").insz
    plan = [
        (t, i, (2024, 1 + random.Random(t * 100 + i).randrange(12), 1 + t))
        for t in range(THREADS)
        for i in range(EACH)
    ]
    outcomes: Counter[str] = Counter()

    def worker(t: int) -> None:
        for tt, i, when in plan:
            if tt != t:
                continue
            try:
                move(stub, insz, f"same-{t}-{i}", when, t * EACH + i)
                outcomes["OK"] += 1
            except grpc.RpcError as exc:
                outcomes[failure(exc).reason] += 1

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(worker, range(THREADS)))
    assert outcomes["OK"] >= 1 and set(outcomes) <= {
        "OK",
        "EFFECTIVE_DATE_OUT_OF_ORDER",
        "ADDRESS_UNCHANGED",
    }
    history = get_person(stub, insz, "address_history").address_history.addresses
    assert len(history) == outcomes["OK"]
    assert [a.period.HasField("end_date") for a in history] == [True] * (len(history) - 1) + [False]
    for earlier, later in itertools.pairwise(history):
        end, start = as_date(earlier.period.end_date), as_date(later.period.start_date)
        assert end + dt.timedelta(days=1) == start
    log, last = whole_log(stub)
    assert log == list(range(1, last + 1))


@pytest.mark.parametrize(
    ("sex", "kind", "parity"),
    [
        (types_pb2.SEX_MALE, InszKind.BIS_SEX_KNOWN, 1),
        (types_pb2.SEX_UNKNOWN, InszKind.BIS_SEX_UNKNOWN, None),
    ],
)
def test_no_number_is_issued_twice_when_threads_register_the_same_birth_date(
    stub, rows: Rows, sex: int, kind: InszKind, parity: int | None
) -> None:
    label = f"bis-{sex}"

    def worker(t: int) -> list[str]:
        return [
            register(stub, f"{label}-{t}-{i}", sex=sex, birth_date=day(1966, 6, 16)).insz
            for i in range(EACH)
        ]

    with ThreadPoolExecutor(THREADS) as pool:
        numbers = [n for got in pool.map(worker, range(THREADS)) for n in got]
    assert len(set(numbers)) == THREADS * EACH
    parsed = [parse_insz(n) for n in numbers]
    assert {(p.kind, p.birth_year, p.birth_month, p.birth_day) for p in parsed} == {
        (kind, 1966, 6, 16)
    }
    serials = sorted(p.serial for p in parsed)
    expected = (
        list(range(1, 2 * THREADS * EACH, 2)) if parity else list(range(1, THREADS * EACH + 1))
    )
    assert serials == expected  # the lowest free serials, none skipped, none twice
    if parity:
        assert all(p.sex is Sex.MALE for p in parsed)
    log, last = whole_log(stub)
    assert log == list(range(1, last + 1))


def test_one_person_is_created_when_threads_send_the_same_request(stub, rows: Rows) -> None:
    before = rows.counts()["person"]

    def worker(_t: int) -> str:
        return register(stub, "same-request", birth_date=day(1955, 5, 5)).insz

    with ThreadPoolExecutor(THREADS) as pool:
        answers = set(pool.map(worker, range(THREADS)))
    assert len(answers) == 1
    assert rows.counts()["person"] == before + 1
