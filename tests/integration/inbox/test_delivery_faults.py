"""Nothing lost, nothing duplicated in effect, whatever fails during a stream of deliveries.

A stream of attestations to four inboxes (ONEM and Fedris by name, mut-100 and mut-200 found by
the directory through the hub) while seeded fault points fire — the dispatcher "dies" before a
call and between a call and its record (`outbox.before_send`, `outbox.after_send`), the inbox
rolls back before its commit or loses its reply after it (`inbox.before_commit`,
`inbox.after_commit`) — and while the primary router, the hub and two inboxes are killed and
restarted on their ports and the dispatcher itself is replaced. Afterwards every attestation is
DELIVERED in the sender's outbox and stored exactly once, in the right inbox, with its content.

`CARREFOUR_FAULTS` (the points, as in production) and `CARREFOUR_FAULT_SEED` override the plan
and the random run's seed; the seed is printed, and named in the failure message.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from registry.seed.population import FIXED_MAN, FIXED_WOMAN
from runtime import faults
from runtime.outbox import DeliveryStatus, RetryPolicy
from tests.integration.inbox.conftest import DAY, INBOXES, Mesh, Sender

pytestmark = pytest.mark.integration

PLAN = "outbox.before_send:0.1,outbox.after_send:0.2,inbox.before_commit:0.2,inbox.after_commit:0.2"
ROUTES = (
    ("unemployment.c4", FIXED_MAN, "onem"),
    ("work-accident.declaration", FIXED_WOMAN, "fedris"),
    ("sickness.zima-001", FIXED_MAN, "mut-100"),
    ("sickness.zima-001", FIXED_WOMAN, "mut-200"),
)
STREAM = 48
#: What is killed (restarted on its port) after how many attestations of the stream.
KILLS = {8: "router", 16: "mut-100", 24: "hub", 32: "onem", 40: "dispatcher"}


def _stored(mesh: Mesh) -> dict[str, list[tuple[str, bytes]]]:
    found: dict[str, list[tuple[str, bytes]]] = {}
    for institution in INBOXES:
        db = mesh.inbox_db(institution)
        try:
            with db.engine.connect() as conn:
                for att_id, payload in conn.execute(sa.text("SELECT id, payload FROM attestation")):
                    found.setdefault(att_id, []).append((institution, bytes(payload)))
        finally:
            db.dispose()
    return found


def _run_stream(mesh: Mesh, sender: Sender, seed: int) -> None:
    plan = faults.FaultPlan.parse(os.environ.get("CARREFOUR_FAULTS") or PLAN, seed)
    rng = random.Random(seed)
    policy = RetryPolicy(base_seconds=0.05, max_delay_seconds=0.4, horizon_seconds=300.0)

    def dispatcher():  # noqa: ANN202
        return sender.dispatcher(
            policy, rng=random.Random(seed), lease_seconds=1.0, poll_seconds=0.02
        ).start()

    expected: dict[str, tuple[str, bytes]] = {}
    faults.install(plan)
    running = dispatcher()
    try:
        for i in range(STREAM):
            kind, insz, inbox = ROUTES[rng.randrange(len(ROUTES))]
            payload = f'{{"n": {i}}}'.encode()
            expected[sender.demo.declare(kind, insz, DAY, payload)] = (inbox, payload)
            running.wake()
            victim = KILLS.get(i)
            if victim == "dispatcher":
                running.stop()
                running = dispatcher()
            elif victim:
                mesh.restart(victim)
            time.sleep(rng.uniform(0.0, 0.03))
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            counts = sender.demo.outbox.counts(sender.db)
            if counts[DeliveryStatus.PENDING] == 0:
                break
            time.sleep(0.1)
    finally:
        running.stop()
        faults.install(None)
    entries = {e.id: e for e in sender.demo.outbox.entries(sender.db)}
    not_delivered = {
        i: (e.status.value, e.last_error)
        for i, e in entries.items()
        if e.status is not DeliveryStatus.DELIVERED
    }
    assert not_delivered == {}, "lost or dead-lettered"
    stored = _stored(mesh)
    copies = Counter(len(stored.get(i, [])) for i in expected)
    assert copies == Counter({1: STREAM}), "every attestation stored exactly once"
    wrong = {i: (stored[i][0], want) for i, want in expected.items() if stored[i][0] != want}
    assert wrong == {}, "stored in the wrong inbox or with other content"
    for i, e in entries.items():
        assert e.delivered_to == f"inboxes/{expected[i][0]}/attestations/{i}"
    assert sum(plan.fired.values()) > 0, "the fault plan never fired"
    print(f"faults fired: {dict(sorted(plan.fired.items()))}")  # noqa: T201


@pytest.mark.parametrize("fixed_seed", [20261127, None], ids=["seeded", "random-seed"])
def test_nothing_is_lost_or_duplicated_when_faults_and_kills_hit_a_stream(
    mesh: Mesh, sender: Sender, fixed_seed: int | None
) -> None:
    env_seed = os.environ.get("CARREFOUR_FAULT_SEED")
    seed = fixed_seed if fixed_seed is not None else int(env_seed or random.randrange(2**31))
    print(f"fault seed {seed} (CARREFOUR_FAULT_SEED={seed} to replay)")  # noqa: T201
    try:
        _run_stream(mesh, sender, seed)
    except AssertionError as exc:
        raise AssertionError(
            f"fault seed {seed} (replay: CARREFOUR_FAULT_SEED={seed}): {exc}"
        ) from exc
