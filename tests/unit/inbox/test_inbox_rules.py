"""The inbox's rules with an in-memory repository: idempotent delivery, the sender's status
question, owner-only listing with AIP-158 pages, idempotent acknowledgement; and the fault plan."""

from __future__ import annotations

import datetime as dt
import uuid
from contextlib import contextmanager
from dataclasses import replace

import pytest

from inbox.service.inbox import Inbox
from inbox.service.model import Attestation, ListQuery, State
from runtime.clock import FixedClock
from runtime.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from runtime.faults import FaultPlan, InjectedFault, check, install

MAN = "85071412330"
T0 = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)


class FakeRepo:
    def __init__(self) -> None:
        self.rows: dict[str, Attestation] = {}

    def get(self, attestation_id: str) -> Attestation | None:
        return self.rows.get(attestation_id)

    def add(self, att: Attestation) -> None:
        self.rows[att.id] = replace(att, seq=len(self.rows) + 1)

    def page(self, query: ListQuery, after: int, limit: int) -> list[Attestation]:
        found = [
            a
            for a in sorted(self.rows.values(), key=lambda a: a.seq)
            if a.seq > after
            and (not query.kind or a.kind == query.kind)
            and (query.state is None or a.state is query.state)
            and (query.reference_from is None or a.reference_date >= query.reference_from)
            and (query.reference_to is None or a.reference_date <= query.reference_to)
        ]
        return found[:limit]

    def acknowledge(self, att: Attestation) -> None:
        self.rows[att.id] = replace(
            self.rows[att.id], state=att.state, acknowledged_at=att.acknowledged_at
        )


@pytest.fixture
def inbox() -> Inbox:
    repo = FakeRepo()

    class Unit:
        attestations = repo

    @contextmanager
    def unit():  # noqa: ANN202
        yield Unit()

    return Inbox("onem", unit, unit, FixedClock(T0))


def _att(**over: object) -> Attestation:
    base = Attestation(
        id=str(uuid.uuid4()),
        kind="unemployment.c4",
        subject_insz=MAN,
        reference_date=dt.date(2026, 11, 2),
        sender="onss",
        created_at=T0 - dt.timedelta(seconds=5),
        payload=b'{"a": 1}',
        payload_type="application/json",
    )
    return replace(base, **over)


def test_redelivery_changes_nothing_and_answers_as_the_first_time_when_same_content(
    inbox: Inbox,
) -> None:
    att = _att()
    first = inbox.deliver(att, "onss", "ticket-1")
    again = inbox.deliver(att, "onss", "ticket-2")
    assert replace(again, seq=0) == first
    assert (again.router_ticket, again.received_at) == ("ticket-1", T0)


def test_delivery_is_refused_as_a_reused_key_when_same_id_has_other_content(inbox: Inbox) -> None:
    att = _att()
    inbox.deliver(att, "onss", "t")
    with pytest.raises(AlreadyExists) as err:
        inbox.deliver(replace(att, payload=b"{}"), "onss", "t")
    assert err.value.reason == "IDEMPOTENCY_KEY_REUSED"


def test_delivery_is_refused_when_the_sender_is_not_the_requester(inbox: Inbox) -> None:
    with pytest.raises(PermissionDenied) as err:
        inbox.deliver(_att(), "famiwal", "t")
    assert err.value.reason == "SENDER_MISMATCH"


def test_every_bad_field_is_reported_when_the_attestation_is_invalid(inbox: Inbox) -> None:
    bad = _att(id="not-a-uuid", kind="Bad Kind", subject_insz="85071412331", payload_type="")
    with pytest.raises(InvalidArgument) as err:
        inbox.deliver(bad, "onss", "t")
    assert err.value.reason == "INVALID_ATTESTATION"
    assert {v.field for v in err.value.violations} == {
        "attestation.id",
        "attestation.kind",
        "attestation.subject_insz",
        "attestation.payload_type",
    }


def test_status_is_answered_only_to_the_sender_when_asked(inbox: Inbox) -> None:
    att = inbox.deliver(_att(), "onss", "t")
    assert inbox.status(att.id, MAN, "onss").state is State.RECEIVED
    for requester, subject in (("famiwal", MAN), ("onss", "03020100274")):
        with pytest.raises(NotFound):
            inbox.status(att.id, subject, requester)


def test_pages_follow_each_other_and_tokens_bind_the_filters_when_listing(inbox: Inbox) -> None:
    ids = [inbox.deliver(_att(kind=k), "onss", "t").id for k in ["unemployment.c4", "x.y"] * 3]
    inbox.check_owner("onem")
    with pytest.raises(PermissionDenied):
        inbox.check_owner("mut-100")
    page, token = inbox.list("inboxes/onem", ListQuery(), 4, "")
    rest, last = inbox.list("inboxes/onem", ListQuery(), 4, token)
    assert [a.id for a in page + rest] == ids and last == ""
    c4, _ = inbox.list("inboxes/onem", ListQuery(kind="unemployment.c4"), 0, "")
    assert len(c4) == 3
    with pytest.raises(InvalidArgument) as err:
        inbox.list("inboxes/onem", ListQuery(kind="x.y"), 4, token)
    assert err.value.reason == "INVALID_PAGE_TOKEN"
    for parent, size, reason in (
        ("inboxes/fedris", 1, "INVALID_PARENT"),
        ("inboxes/onem", 1001, "INVALID_PAGE_SIZE"),
    ):
        with pytest.raises(InvalidArgument) as err:
            inbox.list(parent, ListQuery(), size, "")
        assert err.value.reason == reason


def test_acknowledging_twice_keeps_the_first_time_when_acknowledged(inbox: Inbox) -> None:
    att = inbox.deliver(_att(), "onss", "t")
    first = inbox.acknowledge(att.name("onem"))
    assert first.state is State.ACKNOWLEDGED and first.acknowledged_at == T0
    assert inbox.acknowledge(att.name("onem")) == first
    received, _ = inbox.list("inboxes/onem", ListQuery(state=State.RECEIVED), 0, "")
    assert received == []
    with pytest.raises(NotFound):
        inbox.acknowledge(f"inboxes/onem/attestations/{uuid.uuid4()}")
    with pytest.raises(InvalidArgument):
        inbox.acknowledge(f"inboxes/fedris/attestations/{att.id}")


def test_a_fault_point_fails_as_planned_when_installed() -> None:
    plan = FaultPlan.parse("a:#2,b:#2+,c:0.5", seed=7)
    install(plan)
    try:
        outcomes = []
        for _ in range(4):
            row = []
            for name in ("a", "b", "c", "unplanned"):
                try:
                    check(name)
                    row.append(False)
                except InjectedFault:
                    row.append(True)
            outcomes.append(row)
    finally:
        install(None)
    assert [r[0] for r in outcomes] == [False, True, False, False]
    assert [r[1] for r in outcomes] == [False, True, True, True]
    assert not any(r[3] for r in outcomes)
    again = FaultPlan.parse("c:0.5", seed=7)
    assert [again.fails("c") for _ in range(4)] == [r[2] for r in outcomes]  # seeded
    with pytest.raises(ValueError):
        FaultPlan.parse("a:2")
    kills = FaultPlan.parse("a:exit#2,b:exit0.5,c:#1")
    assert (kills.exits("a"), kills.exits("b"), kills.exits("c")) == (True, True, False)


def test_settings_install_the_fault_plan_named_by_the_environment_when_set(tmp_path) -> None:  # noqa: ANN001
    from inbox.config import Settings
    from runtime import pki
    from runtime.config import ConfigError

    pki.init(tmp_path)
    env = {
        "INBOX_INSTITUTION": "onem",
        "PKI_DIR": str(tmp_path),
        "VAR_DIR": str(tmp_path),
        "CARREFOUR_FAULTS": "inbox.before_commit:0.2,inbox.after_commit:#3",
        "CARREFOUR_FAULT_SEED": "42",
    }
    settings = Settings.from_env(env)
    assert settings.faults is not None and settings.faults.seed == 42
    assert settings.runtime.database_url.endswith("inbox-onem.sqlite3")
    assert settings.runtime.tls.cert.name == "institution-onem.pem"
    assert Settings.from_env({**env, "CARREFOUR_FAULTS": ""}).faults is None
    with pytest.raises(ConfigError) as err:
        Settings.from_env({**env, "CARREFOUR_FAULTS": "x:2", "INBOX_INSTITUTION": "Bad!"})
    assert len(err.value.problems) >= 2
