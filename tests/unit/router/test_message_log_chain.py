"""The message log's pure logic: entries, canonical encoding, chains, checkpoints, verification.

Rows here are plain objects shaped like database rows, so every tampering case is exercised
without a database; tests/storage/router repeats them on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Sequence
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from router.service.message_log import (
    ENTRY_FIELDS,
    ROW_FIELDS,
    ChainHead,
    Checkpoint,
    CheckpointSigner,
    CheckpointTrust,
    LogEntry,
    VerifyReport,
    canonical,
    chain_hash,
    genesis,
    iter_chain_rows,
    new_chain_id,
    payload_digest,
    verify,
)
from runtime import pki

CHAIN = "router-test/0123456789abcdef0123456789abcdef"
ROUTER_URI = "spiffe://carrefour.local/router/cbss"


def _entry(i: int = 0, **changes: object) -> LogEntry:
    values: dict[str, object] = {
        "ticket": f"00000000-0000-4000-8000-{i:012d}",
        "occurred_at": dt.datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=dt.UTC),
        "requester": "spiffe://carrefour.local/institution/onem",
        "service": "cbss.dimona.v1.DimonaService",
        "method": "GetDeclaration",
        "legal_context": "RGPD-ART6-1C/ONEM-2026",
        "subject": "85073100109",
        "capacity": "11/1",
        "destination": "onss",
        "outcome": "FORWARDED",
        "reason": "",
        "latency_us": 1234 + i,
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "request_digest": payload_digest(b"request"),
        "response_digest": payload_digest(b"response"),
    }
    values.update(changes)
    return LogEntry(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def ca() -> pki.Authority:
    return pki.create_ca()


@pytest.fixture(scope="module")
def signer(ca: pki.Authority) -> CheckpointSigner:
    pem, key = pki.issue(ca, ROUTER_URI)
    return CheckpointSigner(pem, key)


@pytest.fixture(scope="module")
def trust(ca: pki.Authority) -> CheckpointTrust:
    return CheckpointTrust(ca.cert.public_bytes(serialization.Encoding.PEM))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _chain(
    signer: CheckpointSigner,
    entries: Sequence[LogEntry],
    *,
    every: int | None = None,
    final: bool = True,
    chain_id: str = CHAIN,
) -> tuple[list[SimpleNamespace], list[Checkpoint]]:
    """Rows as a database gives them back, and the checkpoints a writer would have signed."""
    head = ChainHead.start(chain_id)
    checkpoints = [signer.sign(head, _now())]
    rows: list[SimpleNamespace] = []
    for i, entry in enumerate(entries, 1):
        new, head = head.extend([entry])
        rows += [SimpleNamespace(**row.as_dict()) for row in new]
        if every and i % every == 0:
            checkpoints.append(signer.sign(head, _now()))
    if final:
        checkpoints.append(signer.sign(head, _now(), final=True))
    return rows, checkpoints


def _rehash_from(rows: list[SimpleNamespace], index: int) -> None:
    """What an attacker does after editing rows[index]: recompute every later hash."""
    prev = genesis(rows[0].chain_id) if index == 0 else bytes.fromhex(rows[index - 1].row_hash)
    for row in rows[index:]:
        digest = chain_hash(prev, row.chain_id, row.seq, row)
        row.row_hash = digest.hex()
        prev = digest


def _first(report: VerifyReport) -> tuple[int, str]:
    problem = report.first_problem
    assert problem is not None, report.render()
    return problem.seq, problem.kind


# --- entries ------------------------------------------------------------------------------------


def test_entry_is_stored_in_utc_when_given_another_offset() -> None:
    brussels = dt.timezone(dt.timedelta(hours=1))
    entry = _entry(occurred_at=dt.datetime(2027, 1, 1, 0, 30, 0, 5, tzinfo=brussels))
    assert entry.occurred_at == dt.datetime(2026, 12, 31, 23, 30, 0, 5, tzinfo=dt.UTC)
    assert entry.occurred_at.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("occurred_at", dt.datetime(2026, 1, 1)),
        ("ticket", "not-a-uuid"),
        ("ticket", "00000000-0000-4000-8000-00000000000A"),
        ("requester", "https://onem.example"),
        ("requester", ""),
        ("service", ""),
        ("legal_context", "x" * 65),
        ("legal_context", "line\nbreak"),
        ("subject", "8507310010"),
        ("subject", "85073100109 "),
        ("outcome", "forwarded"),
        ("outcome", ""),
        ("reason", "Not_Snake"),
        ("latency_us", -1),
        ("latency_us", 1.5),
        ("latency_us", True),
        ("trace_id", "4BF92F3577B34DA6A3CE929D0E0E4736"),
        ("request_digest", "abc"),
        ("destination", "nul\x00"),
        ("method", "\ud800"),
    ],
)
def test_entry_is_refused_when_a_field_is_invalid(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        _entry(**{field: value})


def test_entry_accepts_empty_optional_fields_when_a_refusal_has_none() -> None:
    entry = _entry(
        legal_context="",
        subject="",
        capacity="",
        destination="",
        outcome="REFUSED",
        reason="NO_AUTHORISATION",
        trace_id="",
        request_digest="",
        response_digest="",
    )
    assert entry.reason == "NO_AUTHORISATION"


def test_payload_digest_is_empty_when_there_is_no_payload() -> None:
    assert payload_digest(None) == ""
    assert payload_digest(b"") == hashlib.sha256(b"").hexdigest()


def test_chain_id_names_the_writer_when_created() -> None:
    first, second = new_chain_id("router-cbss"), new_chain_id("router-cbss")
    assert first.startswith("router-cbss/") and len(first) == len("router-cbss/") + 32
    assert first != second
    with pytest.raises(ValueError):
        new_chain_id("Router CBSS")


# --- canonical encoding -------------------------------------------------------------------------


def test_canonical_encoding_is_exactly_the_documented_json_when_encoding_a_row() -> None:
    encoded = canonical(CHAIN, 7, _entry(legal_context="café"))
    assert encoded == (
        b'{"capacity":"11/1","chain_id":"router-test/0123456789abcdef0123456789abcdef",'
        b'"destination":"onss","latency_us":1234,"legal_context":"caf\\u00e9",'
        b'"method":"GetDeclaration","occurred_at":"2026-12-31T23:59:59.999999Z",'
        b'"outcome":"FORWARDED","reason":"",'
        b'"request_digest":"' + payload_digest(b"request").encode() + b'",'
        b'"requester":"spiffe://carrefour.local/institution/onem",'
        b'"response_digest":"' + payload_digest(b"response").encode() + b'",'
        b'"seq":7,"service":"cbss.dimona.v1.DimonaService","subject":"85073100109",'
        b'"ticket":"00000000-0000-4000-8000-000000000000",'
        b'"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}'
    )
    assert sorted(ROW_FIELDS) == sorted(["chain_id", "seq", *ENTRY_FIELDS])


def test_chain_starts_from_the_digest_of_its_id_when_hashing_seq_1() -> None:
    rows, head = ChainHead.start(CHAIN).extend([_entry()])
    expected = hashlib.sha256(
        hashlib.sha256(CHAIN.encode()).digest() + canonical(CHAIN, 1, _entry())
    ).hexdigest()
    assert rows[0].row_hash == expected == head.digest.hex()
    assert (rows[0].seq, head.seq) == (1, 1)


def test_naive_timestamp_hashes_as_utc_when_read_back_from_sqlite() -> None:
    stored = SimpleNamespace(**{name: getattr(_entry(), name) for name in ENTRY_FIELDS})
    stored.occurred_at = stored.occurred_at.replace(tzinfo=None)
    assert canonical(CHAIN, 1, stored) == canonical(CHAIN, 1, _entry())


_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)
_HEX32 = st.from_regex(r"\A[0-9a-f]{32}\Z")
_HEX64 = st.from_regex(r"\A[0-9a-f]{64}\Z")
_CODE = st.from_regex(r"\A[A-Z][A-Z0-9]{0,8}(_[A-Z0-9]{1,4}){0,2}\Z")

entries = st.builds(
    LogEntry,
    ticket=st.uuids().map(str),
    occurred_at=st.datetimes(
        min_value=dt.datetime(2000, 1, 1),
        max_value=dt.datetime(2100, 1, 1),
        timezones=st.sampled_from(
            [dt.UTC, dt.timezone(dt.timedelta(hours=2)), dt.timezone(dt.timedelta(hours=-5))]
        ),
    ),
    requester=_TEXT.map(lambda s: "spiffe://carrefour.local/" + s),
    service=_TEXT.map(lambda s: "s" + s),
    method=_TEXT.map(lambda s: "M" + s),
    legal_context=_TEXT,
    subject=st.one_of(st.just(""), st.from_regex(r"\A[0-9]{11}\Z")),
    capacity=_TEXT,
    destination=_TEXT,
    outcome=_CODE,
    reason=st.one_of(st.just(""), _CODE),
    latency_us=st.integers(0, 2**63 - 1),
    trace_id=st.one_of(st.just(""), _HEX32),
    request_digest=st.one_of(st.just(""), _HEX64),
    response_digest=st.one_of(st.just(""), _HEX64),
)


@given(entries, entries, st.integers(1, 10), st.integers(1, 10))
def test_canonical_encodings_differ_when_rows_differ(
    a: LogEntry, b: LogEntry, seq_a: int, seq_b: int
) -> None:
    same = a == b and seq_a == seq_b
    assert (canonical(CHAIN, seq_a, a) == canonical(CHAIN, seq_b, b)) == same


@given(entries, st.sampled_from(ENTRY_FIELDS), st.data())
def test_row_hash_changes_when_any_single_field_changes(
    entry: LogEntry, field: str, data: st.DataObject
) -> None:
    other = data.draw(entries)
    assume_different = getattr(other, field) != getattr(entry, field)
    changed = dataclasses.replace(entry, **{field: getattr(other, field)})
    prev = genesis(CHAIN)
    differ = chain_hash(prev, CHAIN, 1, changed) != chain_hash(prev, CHAIN, 1, entry)
    assert differ == assume_different


# --- verification -------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(st.lists(entries, max_size=12), st.integers(1, 5), st.booleans())
def test_chain_is_intact_when_no_row_is_touched(
    signer: CheckpointSigner,
    trust: CheckpointTrust,
    logged: list[LogEntry],
    every: int,
    closed: bool,
) -> None:
    rows, checkpoints = _chain(signer, logged, every=every, final=closed)
    report = verify(rows, checkpoints, trust)
    assert report.intact, report.render()
    assert report.chains[0].rows == len(logged)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.data())
def test_first_bad_row_is_the_edited_one_when_a_field_changes_without_rehash(
    signer: CheckpointSigner, trust: CheckpointTrust, n: int, data: st.DataObject
) -> None:
    rows, checkpoints = _chain(signer, [_entry(i) for i in range(n)], every=4)
    k = data.draw(st.integers(0, n - 1))
    field = data.draw(st.sampled_from(ENTRY_FIELDS))
    replacement = {
        "occurred_at": rows[k].occurred_at + dt.timedelta(microseconds=1),
        "latency_us": rows[k].latency_us + 1,
        "subject": "",
        "ticket": "00000000-0000-4000-8000-999999999999",
    }.get(field, "CHANGED")
    setattr(rows[k], field, replacement)
    assert _first(verify(rows, checkpoints, trust)) == (k + 1, "ROW_HASH_MISMATCH")


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 12), st.data())
def test_gap_is_reported_when_a_row_is_deleted(
    signer: CheckpointSigner, trust: CheckpointTrust, n: int, data: st.DataObject
) -> None:
    rows, checkpoints = _chain(signer, [_entry(i) for i in range(n)])
    k = data.draw(st.integers(0, n - 2))  # not the last: that one is a truncation
    del rows[k]
    assert _first(verify(rows, checkpoints, trust)) == (k + 1, "SEQUENCE_GAP")


def test_inserted_row_is_reported_when_later_rows_are_shifted(
    signer: CheckpointSigner, trust: CheckpointTrust
) -> None:
    rows, checkpoints = _chain(signer, [_entry(i) for i in range(6)])
    forged = SimpleNamespace(**vars(rows[2]))
    forged.seq, forged.reason = 4, "FORGED"
    forged.row_hash = chain_hash(bytes.fromhex(rows[2].row_hash), CHAIN, 4, forged).hex()
    for row in rows[3:]:
        row.seq += 1
    rows.insert(3, forged)
    # The forged row itself chains correctly; the next one no longer matches its hash.
    assert _first(verify(rows, checkpoints, trust)) == (5, "ROW_HASH_MISMATCH")


def test_duplicate_sequence_is_reported_when_a_row_is_repeated(
    signer: CheckpointSigner, trust: CheckpointTrust
) -> None:
    rows, checkpoints = _chain(signer, [_entry(i) for i in range(4)])
    rows.insert(2, SimpleNamespace(**vars(rows[1])))
    assert _first(verify(rows, checkpoints, trust)) == (2, "SEQUENCE_DUPLICATE")


def test_row_appended_after_the_final_checkpoint_is_reported_when_hashes_are_valid(
    signer: CheckpointSigner, trust: CheckpointTrust
) -> None:
    rows, checkpoints = _chain(signer, [_entry(i) for i in range(3)])
    extra, _ = ChainHead(CHAIN, 3, bytes.fromhex(rows[-1].row_hash)).extend([_entry(9)])
    rows.append(SimpleNamespace(**extra[0].as_dict()))
    assert _first(verify(rows, checkpoints, trust)) == (4, "ROW_AFTER_FINAL_CHECKPOINT")


@pytest.mark.parametrize("k", [0, 5, 9, 10, 11])
def test_rewritten_suffix_is_caught_by_the_next_checkpoint_when_hashes_are_recomputed(
    signer: CheckpointSigner, trust: CheckpointTrust, k: int
) -> None:
    rows, checkpoints = _chain(signer, [_entry(i) for i in range(12)], every=5)
    rows[k].outcome = "REFUSED"
    _rehash_from(rows, k)
    seq, kind = _first(verify(rows, checkpoints, trust))
    assert kind == "CHECKPOINT_MISMATCH"
    assert seq == {0: 5, 5: 10, 9: 10, 10: 12, 11: 12}[k]  # checkpoints at 5, 10, final 12


@pytest.mark.parametrize("keep", [0, 3, 7])
def test_truncated_tail_is_reported_when_the_last_rows_are_deleted(
    signer: CheckpointSigner, trust: CheckpointTrust, keep: int
) -> None:
    rows, checkpoints = _chain(signer, [_entry(i) for i in range(8)], every=3)
    report = verify(rows[:keep], checkpoints, trust)
    assert _first(report) == (keep + 1, "CHECKPOINT_BEYOND_END")


def test_unsigned_chain_is_reported_when_rows_have_no_checkpoint(
    signer: CheckpointSigner, trust: CheckpointTrust
) -> None:
    rows, _ = _chain(signer, [_entry(i) for i in range(3)])
    assert _first(verify(rows, [], trust)) == (1, "CHAIN_UNSIGNED")


def test_tail_after_the_last_checkpoint_is_only_a_warning_when_the_writer_did_not_close(
    signer: CheckpointSigner, trust: CheckpointTrust
) -> None:
    rows, checkpoints = _chain(signer, [_entry(i) for i in range(7)], every=5, final=False)
    report = verify(rows, checkpoints, trust)
    assert report.intact
    assert [(w.seq, w.kind) for w in report.warnings] == [(6, "UNCHECKPOINTED_TAIL")]
    assert not report.chains[0].closed
    assert "warning" in report.render()


def test_forged_checkpoint_is_reported_when_signed_by_another_ca(
    signer: CheckpointSigner, trust: CheckpointTrust
) -> None:
    rows, checkpoints = _chain(signer, [_entry(i) for i in range(4)])
    other_pem, other_key = pki.issue(pki.create_ca("Mallory CA"), ROUTER_URI)
    forger = CheckpointSigner(other_pem, other_key)
    checkpoints.append(forger.sign(ChainHead(CHAIN, 2, b"\x00" * 32), _now()))
    report = verify(rows, checkpoints, trust)
    assert _first(report) == (2, "CHECKPOINT_SIGNER_UNTRUSTED")
    assert "not issued by the trusted CA" in report.problems[0].detail


def test_forged_chain_is_reported_when_every_checkpoint_is_signed_by_another_ca(
    trust: CheckpointTrust,
) -> None:
    other_pem, other_key = pki.issue(pki.create_ca("Mallory CA"), ROUTER_URI)
    rows, checkpoints = _chain(CheckpointSigner(other_pem, other_key), [_entry()])
    assert _first(verify(rows, checkpoints, trust)) == (0, "CHECKPOINT_SIGNER_UNTRUSTED")


def test_edited_checkpoint_is_reported_when_its_signature_no_longer_matches(
    signer: CheckpointSigner, trust: CheckpointTrust
) -> None:
    rows, checkpoints = _chain(signer, [_entry(i) for i in range(4)], every=2)
    rows[0].reason = "EDITED"
    _rehash_from(rows, 0)
    # The attacker also moves the checkpoints onto the new heads, without the key.
    by_seq = {row.seq: row.row_hash for row in rows}
    checkpoints = [
        dataclasses.replace(cp, head_hash=by_seq.get(cp.seq, cp.head_hash)) for cp in checkpoints
    ]
    assert _first(verify(rows, checkpoints, trust)) == (2, "CHECKPOINT_SIGNATURE_INVALID")


def test_checkpoint_is_refused_when_its_signer_is_not_allowed(
    ca: pki.Authority, signer: CheckpointSigner
) -> None:
    rows, checkpoints = _chain(signer, [_entry()])
    ca_pem = ca.cert.public_bytes(serialization.Encoding.PEM)
    allowed = CheckpointTrust(ca_pem, allowed_signers={ROUTER_URI})
    assert verify(rows, checkpoints, allowed).intact
    others = CheckpointTrust(ca_pem, allowed_signers={"spiffe://carrefour.local/router/cin"})
    report = verify(rows, checkpoints, others)
    assert _first(report) == (0, "CHECKPOINT_SIGNER_UNTRUSTED")


def test_checkpoint_is_refused_when_signed_outside_its_certificate_validity(
    signer: CheckpointSigner, trust: CheckpointTrust
) -> None:
    head = ChainHead.start(CHAIN)
    late = signer.sign(head, _now() + dt.timedelta(days=3650))
    report = verify([], [late], trust)
    assert _first(report) == (0, "CHECKPOINT_SIGNER_UNTRUSTED")
    assert "validity" in report.problems[0].detail


def test_signer_is_refused_when_its_key_does_not_match_the_certificate(
    ca: pki.Authority,
) -> None:
    pem, _ = pki.issue(ca, ROUTER_URI)
    _, other_key = pki.issue(ca, ROUTER_URI)
    with pytest.raises(ValueError, match="does not match"):
        CheckpointSigner(pem, other_key)


def test_malformed_row_is_reported_when_a_value_has_the_wrong_type(
    signer: CheckpointSigner, trust: CheckpointTrust
) -> None:
    rows, checkpoints = _chain(signer, [_entry(i) for i in range(3)])
    rows[1].latency_us = b"\x01"  # SQLite stores whatever it is given
    assert _first(verify(rows, checkpoints, trust)) == (2, "ROW_MALFORMED")


def test_each_chain_reports_its_own_first_problem_when_several_chains_are_verified(
    signer: CheckpointSigner, trust: CheckpointTrust
) -> None:
    other = "router-test/ffffffffffffffffffffffffffffffff"
    rows_a, cps_a = _chain(signer, [_entry(i) for i in range(3)])
    rows_b, cps_b = _chain(signer, [_entry(i) for i in range(3)], chain_id=other)
    rows_b[2].reason = "EDITED"
    report = verify(rows_a + rows_b, cps_a + cps_b, trust)
    assert [(p.chain_id, p.seq, p.kind) for p in report.problems] == [
        (other, 3, "ROW_HASH_MISMATCH")
    ]
    assert [c.rows for c in report.chains] == [3, 2]
    assert "TAMPERED" in report.render()


def test_verify_refuses_input_when_rows_are_not_grouped_by_chain(
    signer: CheckpointSigner, trust: CheckpointTrust
) -> None:
    other = "router-test/ffffffffffffffffffffffffffffffff"
    rows_a, cps_a = _chain(signer, [_entry(i) for i in range(2)])
    rows_b, _ = _chain(signer, [_entry(9)], chain_id=other)
    with pytest.raises(ValueError, match="ordered"):
        verify([rows_a[0], rows_b[0], rows_a[1]], cps_a, trust)


def test_rows_are_streamed_page_by_page_when_read_with_a_keyset() -> None:
    data = [SimpleNamespace(chain_id=c, seq=s) for c in ("a", "b") for s in (1, 2, 3)]
    asked: list[tuple[str, int] | None] = []

    def page(after: tuple[str, int] | None) -> list[SimpleNamespace]:
        asked.append(after)
        start = 0 if after is None else 1 + [(r.chain_id, r.seq) for r in data].index(after)
        return data[start : start + 4]

    assert list(iter_chain_rows(page)) == data
    assert asked == [None, ("b", 1), ("b", 3)]


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(max_size=40),
    seq=st.integers(min_value=1, max_value=2**62),
    latency=st.integers(min_value=0, max_value=2**62),
)
def test_fast_canonical_encoding_equals_json_dumps_when_fields_are_arbitrary(
    text: str, seq: int, latency: int
) -> None:
    from router.service.message_log import canonical, canonical_reference

    row = SimpleNamespace(
        ticket="6f1c2a1e-0000-4000-8000-000000000001",
        occurred_at=dt.datetime(2026, 11, 27, 12, 0, 0, 123456, tzinfo=dt.UTC),
        requester="spiffe://carrefour.local/institution/onem",
        service="cbss.registry.v1.RegistryService",
        method="GetPerson",
        legal_context=text,
        subject="",
        capacity="18/1",
        destination=text,
        outcome="FORWARDED",
        reason="",
        latency_us=latency,
        trace_id="",
        request_digest="",
        response_digest="",
    )
    assert canonical("router-x/1", seq, row) == canonical_reference("router-x/1", seq, row)
