"""The router's tamper-evident message log: entries, hash chains, signed checkpoints, verification.

Pure logic (standard library and `cryptography`); the database side is router.storage.message_log.

Entries
    One `LogEntry` per subject per routed message and per refusal. Payloads are never logged, only
    their SHA-256 digests; the INSZ is stored in the row but never written to a process log.

Chains
    Each writer (one per process start) owns one hash chain, `chain_id = "<writer name>/<32 hex>"`,
    and numbers its rows 1, 2, 3… without gaps. For row `seq`:

        row_hash(seq) = SHA-256( prev ‖ canonical(row) )      (hex, lower case, in the row)
        prev          = row_hash(seq - 1) as 32 raw bytes; for seq 1: SHA-256(chain_id in UTF-8)

Canonical encoding (format 1)
    The UTF-8 (in fact pure ASCII) bytes of a JSON object with exactly the keys `ROW_FIELDS`
    (chain_id, seq and every `LogEntry` field), sorted, separators `,` and `:` without spaces,
    non-ASCII characters escaped as `\\uXXXX` (`json.dumps(..., sort_keys=True,
    separators=(",", ":"), ensure_ascii=True)`). Strings are JSON strings, `seq` and `latency_us`
    JSON integers, `occurred_at` the string `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, always six digits
    of microseconds), which both SQLite and PostgreSQL give back to the microsecond. JSON makes the
    encoding unambiguous: no field can bleed into another, and a fixed key set means a row cannot
    gain or lose a field without changing its hash.

Checkpoints
    Every N rows or T seconds, at start (sequence 0, head = the genesis digest) and at close
    (`final`), the writer signs `checkpoint_payload(...)` — canonical JSON of format, chain id,
    sequence, head digest, signing time and the final flag — with its ECDSA P-256 key (SHA-256,
    DER signature) and stores it with its certificate outside the log table.

What verification proves, and its limits
    `verify()` recomputes every chain from its first row: an edited row breaks its own hash; a
    deleted or inserted row breaks the sequence or the next hash; a rewritten suffix with
    recomputed hashes no longer matches the next signed checkpoint; a truncated tail leaves a
    checkpoint naming a sequence beyond the last row; a row appended after the final checkpoint is
    refused; a chain nobody signed (no checkpoint at all, not even the opening one) is refused.
    Rows written after a chain's last checkpoint (a writer that crashed, or one still running) are
    protected only by the chain: an attacker with write access could rewrite or drop them
    unnoticed. They are reported as a warning. `close()` writes a final checkpoint, so a cleanly
    stopped writer leaves none. An attacker who deletes rows *and* the checkpoints covering them
    back to an earlier checkpoint makes the chain look like a crashed writer (a warning, not a
    problem); the checkpoint heads also go to the process log as an external anchor against that.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

CHECKPOINT_FORMAT = "carrefour.message-log.checkpoint/1"

#: Column limits, shared with the storage models so that an entry that validates always fits.
MAX_CHAIN_ID = 100
MAX_URI = 255
MAX_NAME = 255
MAX_LEGAL_CONTEXT = 64
MAX_CAPACITY = 32
MAX_OUTCOME = 32
MAX_REASON = 64

_WRITER_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
_UPPER_SNAKE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")
_HEX32 = re.compile(r"[0-9a-f]{32}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_INSZ = re.compile(r"[0-9]{11}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One crossing of the router for one subject: a forwarded message, a refusal or a failure.

    Validated on construction, so that a bad entry fails its caller at once instead of failing a
    whole group-committed batch of other callers' entries at the database.
    """

    ticket: str  #: the message's UUID (lower-case, hyphenated); shared by its rows
    occurred_at: dt.datetime  #: when the router handled it; any timezone, stored as UTC
    requester: str  #: SPIFFE URI of the requesting institution
    service: str  #: gRPC service, e.g. "cbss.dimona.v1.DimonaService"
    method: str  #: gRPC method, e.g. "GetDeclaration"
    legal_context: str  #: the legal context the requester invoked ("" when it gave none)
    subject: str  #: the INSZ (11 digits), "" when the message names no person
    capacity: str  #: capacity used, e.g. "11/1"; "none" for directory check NONE; "" if n/a
    destination: str  #: holder institution id ("" when refused before one was chosen)
    outcome: str  #: UPPER_SNAKE, e.g. FORWARDED, REFUSED, FAILED
    reason: str  #: UPPER_SNAKE reason, "" when OK
    latency_us: int  #: time spent in the router and the holder, in microseconds
    trace_id: str  #: W3C trace id (32 lower-case hex), "" when untraced
    request_digest: str  #: SHA-256 hex of the request bytes, "" when none
    response_digest: str  #: SHA-256 hex of the response bytes, "" when none

    def __post_init__(self) -> None:
        at = self.occurred_at
        if not isinstance(at, dt.datetime) or at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("occurred_at must be a timezone-aware datetime")
        # Normalise once here: SQLite keeps no offset, so only UTC survives a round trip.
        object.__setattr__(self, "occurred_at", at.astimezone(dt.UTC))
        _check_ticket(self.ticket)
        _check_text("requester", self.requester, MAX_URI, required=True)
        if not self.requester.startswith("spiffe://"):
            raise ValueError("requester must be a SPIFFE URI")
        _check_text("service", self.service, MAX_NAME, required=True)
        _check_text("method", self.method, MAX_NAME, required=True)
        _check_text("legal_context", self.legal_context, MAX_LEGAL_CONTEXT)
        if self.subject and not (isinstance(self.subject, str) and _INSZ.fullmatch(self.subject)):
            raise ValueError("subject must be an INSZ (11 digits) or empty")
        _check_text("subject", self.subject, 11)
        _check_text("capacity", self.capacity, MAX_CAPACITY)
        _check_text("destination", self.destination, MAX_URI)
        _check_code("outcome", self.outcome, MAX_OUTCOME, required=True)
        _check_code("reason", self.reason, MAX_REASON)
        if type(self.latency_us) is not int or not 0 <= self.latency_us < 2**63:
            raise ValueError("latency_us must be a non-negative integer")
        _check_pattern("trace_id", self.trace_id, _HEX32)
        _check_pattern("request_digest", self.request_digest, _HEX64)
        _check_pattern("response_digest", self.response_digest, _HEX64)


ENTRY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(LogEntry))
#: The exact key set of the canonical encoding.
ROW_FIELDS: tuple[str, ...] = ("chain_id", "seq", *ENTRY_FIELDS)
_encode_str = json.encoder.encode_basestring_ascii  # the encoder json.dumps itself uses
_SORTED_KEYS = tuple((name, _encode_str(name) + ":") for name in sorted(ROW_FIELDS))


def _check_text(name: str, value: object, limit: int, *, required: bool = False) -> None:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    if required and not value:
        raise ValueError(f"{name} is required")
    if len(value) > limit:
        raise ValueError(f"{name} is longer than {limit} characters")
    if _CONTROL.search(value):
        raise ValueError(f"{name} contains control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{name} is not valid Unicode text") from None


def _check_code(name: str, value: object, limit: int, *, required: bool = False) -> None:
    _check_text(name, value, limit, required=required)
    if value and not _UPPER_SNAKE.fullmatch(value):  # type: ignore[arg-type]
        raise ValueError(f"{name} must be UPPER_SNAKE")


def _check_pattern(name: str, value: object, pattern: re.Pattern[str]) -> None:
    if not isinstance(value, str) or (value and not pattern.fullmatch(value)):
        raise ValueError(f"{name} must be lower-case hex of the right length, or empty")


def _check_ticket(value: object) -> None:
    try:
        ok = isinstance(value, str) and str(uuid.UUID(value)) == value
    except ValueError:
        ok = False
    if not ok:
        raise ValueError("ticket must be a lower-case hyphenated UUID")


def payload_digest(data: bytes | None) -> str:
    """The digest the log keeps of a payload: SHA-256 hex, or "" when there is none."""
    return "" if data is None else hashlib.sha256(data).hexdigest()


def new_chain_id(writer_name: str) -> str:
    """A fresh chain id for one writer's lifetime, e.g. "router-cbss/2f1c…" (32 hex)."""
    if not _WRITER_NAME.fullmatch(writer_name):
        raise ValueError("writer name must be 1-63 of [a-z0-9._-], starting with [a-z0-9]")
    return f"{writer_name}/{uuid.uuid4().hex}"


# --- Canonical encoding and chain hashing -----------------------------------------------------


class EntryLike(Protocol):
    """Anything with the `LogEntry` fields as attributes (a LogEntry, a database row)."""

    ticket: str
    occurred_at: dt.datetime
    requester: str
    service: str
    method: str
    legal_context: str
    subject: str
    capacity: str
    destination: str
    outcome: str
    reason: str
    latency_us: int
    trace_id: str
    request_digest: str
    response_digest: str


class RowLike(EntryLike, Protocol):
    """A stored log row: an entry with its place in a chain and its stored hash."""

    chain_id: str
    seq: int
    row_hash: str


def utc_iso(at: dt.datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS.ffffffZ`.

    A naive datetime is read as UTC: SQLite stores no offset, and the log only ever writes UTC.
    """
    if not isinstance(at, dt.datetime):
        raise TypeError("not a datetime")
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def canonical(chain_id: str, seq: int, entry: EntryLike) -> bytes:
    """The canonical encoding of one row (see the module docstring).

    Exactly `json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=True)`, written
    out with the key order computed once and the C string encoder: the router hashes a row for
    every crossing, and the generic dumps was a tenth of its Python time (a test pins the bytes
    against json.dumps).
    """
    parts: list[str] = []
    for name, quoted in _SORTED_KEYS:
        if name == "chain_id":
            value: Any = chain_id
        elif name == "seq":
            value = seq
        elif name == "occurred_at":
            value = utc_iso(entry.occurred_at)
        else:
            value = getattr(entry, name)
        kind = type(value)
        # bool is an int to Python but not to the encoding; anything else is a malformed row.
        if kind is str:
            parts.append(quoted + _encode_str(value))
        elif kind is int:
            parts.append(quoted + int.__repr__(value))
        else:
            raise TypeError(f"{name} has type {kind.__name__}")
    return ("{" + ",".join(parts) + "}").encode("ascii")


def canonical_reference(chain_id: str, seq: int, entry: EntryLike) -> bytes:
    """The same encoding through json.dumps: the definition `canonical` must match."""
    doc: dict[str, Any] = {name: getattr(entry, name) for name in ENTRY_FIELDS}
    doc["occurred_at"] = utc_iso(entry.occurred_at)
    doc["chain_id"] = chain_id
    doc["seq"] = seq
    for name, value in doc.items():
        if type(value) not in (str, int):
            raise TypeError(f"{name} has type {type(value).__name__}")
    return _json(doc)


def genesis(chain_id: str) -> bytes:
    """The `prev` digest of a chain's first row."""
    return hashlib.sha256(chain_id.encode("utf-8")).digest()


def chain_hash(prev: bytes, chain_id: str, seq: int, entry: EntryLike) -> bytes:
    """row_hash = SHA-256(prev ‖ canonical(row)), as raw bytes."""
    return hashlib.sha256(prev + canonical(chain_id, seq, entry)).digest()


@dataclass(frozen=True, slots=True)
class ChainedRow:
    """A row ready to store: the entry, its place in the chain and its hash (hex)."""

    chain_id: str
    seq: int
    entry: LogEntry
    row_hash: str

    def as_dict(self) -> dict[str, Any]:
        """Column name -> value, for an INSERT."""
        values = {name: getattr(self.entry, name) for name in ENTRY_FIELDS}
        values.update(chain_id=self.chain_id, seq=self.seq, row_hash=self.row_hash)
        return values


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last row of a chain: its sequence and digest (seq 0 and the genesis when empty)."""

    chain_id: str
    seq: int
    digest: bytes

    @classmethod
    def start(cls, chain_id: str) -> ChainHead:
        return cls(chain_id, 0, genesis(chain_id))

    def extend(self, entries: Iterable[LogEntry]) -> tuple[list[ChainedRow], ChainHead]:
        """The rows that continue the chain with `entries`, and the new head.

        Pure: the caller adopts the new head only once the rows are committed, so a failed
        commit leaves the chain where the database has it.
        """
        rows: list[ChainedRow] = []
        seq, digest = self.seq, self.digest
        for entry in entries:
            seq += 1
            digest = chain_hash(digest, self.chain_id, seq, entry)
            rows.append(ChainedRow(self.chain_id, seq, entry, digest.hex()))
        return rows, ChainHead(self.chain_id, seq, digest)


# --- Checkpoints ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement "chain `chain_id` had head `head_hash` at `seq`" (`final`: and ends)."""

    chain_id: str
    seq: int
    head_hash: str
    signed_at: dt.datetime
    final: bool
    signature: bytes
    signer_cert_pem: str


class CheckpointLike(Protocol):
    chain_id: str
    seq: int
    head_hash: str
    signed_at: dt.datetime
    final: bool
    signature: bytes
    signer_cert_pem: str


def checkpoint_payload(
    chain_id: str, seq: int, head_hash: str, signed_at: dt.datetime, final: bool
) -> bytes:
    """The signed bytes of a checkpoint: canonical JSON, like a row."""
    if type(seq) is not int or not isinstance(head_hash, str):
        raise TypeError("malformed checkpoint")
    return _json(
        {
            "format": CHECKPOINT_FORMAT,
            "chain_id": chain_id,
            "seq": seq,
            "head": head_hash,
            "signed_at": utc_iso(signed_at),
            "final": bool(final),
        }
    )


class CheckpointSigner:
    """Signs checkpoints with the writer's PKI key (ECDSA P-256, SHA-256)."""

    def __init__(self, cert_pem: bytes, key_pem: bytes) -> None:
        cert = x509.load_pem_x509_certificate(cert_pem)
        key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("the checkpoint key must be an EC P-256 private key")
        if cert.public_key() != key.public_key():
            raise ValueError("the checkpoint certificate does not match its key")
        self._key = key
        self.cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")

    def sign(self, head: ChainHead, signed_at: dt.datetime, *, final: bool = False) -> Checkpoint:
        signed_at = signed_at.astimezone(dt.UTC)
        hex_head = head.digest.hex()
        payload = checkpoint_payload(head.chain_id, head.seq, hex_head, signed_at, final)
        signature = self._key.sign(payload, ec.ECDSA(hashes.SHA256()))
        return Checkpoint(
            head.chain_id, head.seq, hex_head, signed_at, final, signature, self.cert_pem
        )


class CheckpointTrust:
    """Which checkpoints to believe: signed by a certificate the CA issued and valid then.

    `allowed_signers`, when given, also restricts the signer to certificates naming one of these
    URIs (e.g. the router's SPIFFE id), so that another party of the same CA cannot sign.
    """

    def __init__(self, ca_pem: bytes, *, allowed_signers: Collection[str] | None = None) -> None:
        self.ca = x509.load_pem_x509_certificate(ca_pem)
        self.allowed_signers = frozenset(allowed_signers) if allowed_signers else None
        self._certs: dict[str, x509.Certificate | str] = {}

    def problem(self, cp: CheckpointLike) -> tuple[str, str] | None:
        """(kind, detail) when the checkpoint is not to be believed, else None."""
        cert = self._signer(cp.signer_cert_pem)
        if isinstance(cert, str):
            return "CHECKPOINT_SIGNER_UNTRUSTED", cert
        try:
            signed_at = _as_utc(cp.signed_at)
            payload = checkpoint_payload(cp.chain_id, cp.seq, cp.head_hash, signed_at, cp.final)
        except (TypeError, ValueError, AttributeError):
            return "CHECKPOINT_MALFORMED", "the checkpoint's fields cannot be read"
        if not (
            cert.not_valid_before_utc <= signed_at <= cert.not_valid_after_utc
            and self.ca.not_valid_before_utc <= signed_at <= self.ca.not_valid_after_utc
        ):
            return (
                "CHECKPOINT_SIGNER_UNTRUSTED",
                "signed outside the validity period of its certificate or of the CA",
            )
        public_key = cert.public_key()
        assert isinstance(public_key, ec.EllipticCurvePublicKey)  # checked in _signer
        try:
            public_key.verify(bytes(cp.signature), payload, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, TypeError, ValueError):
            return "CHECKPOINT_SIGNATURE_INVALID", "the signature does not match the checkpoint"
        return None

    def _signer(self, pem: str) -> x509.Certificate | str:
        # Many checkpoints share one certificate: check each certificate once.
        if pem not in self._certs:
            self._certs[pem] = self._check_cert(pem)
        return self._certs[pem]

    def _check_cert(self, pem: str) -> x509.Certificate | str:
        try:
            cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
        except (ValueError, TypeError, AttributeError, UnicodeEncodeError):
            return "the signer certificate cannot be read"
        try:
            cert.verify_directly_issued_by(self.ca)
        except (ValueError, TypeError, InvalidSignature):
            return "the signer certificate was not issued by the trusted CA"
        key = cert.public_key()
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
            return "the signer key is not EC P-256"
        if self.allowed_signers is not None:
            try:
                uris = cert.extensions.get_extension_for_class(
                    x509.SubjectAlternativeName
                ).value.get_values_for_type(x509.UniformResourceIdentifier)
            except x509.ExtensionNotFound:
                uris = []
            if not self.allowed_signers.intersection(uris):
                return "the signer is not one of the allowed signers"
        return cert


def _as_utc(at: dt.datetime) -> dt.datetime:
    if not isinstance(at, dt.datetime):
        raise TypeError("not a datetime")
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


# --- Verification -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """Something wrong (or, as a warning, unprotected) at one place of one chain."""

    chain_id: str
    seq: int
    kind: str  #: UPPER_SNAKE, e.g. ROW_HASH_MISMATCH
    detail: str

    def __str__(self) -> str:
        return f"{self.chain_id} seq {self.seq}: {self.kind}: {self.detail}"


@dataclass(frozen=True, slots=True)
class ChainSummary:
    chain_id: str
    rows: int  #: rows read (up to the first problem)
    last_seq: int
    checkpoints: int  #: valid checkpoints
    last_checkpoint_seq: int  #: -1 when none is valid
    closed: bool  #: a valid final checkpoint exists


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of a verification: per chain, the first problem found, if any."""

    chains: tuple[ChainSummary, ...]
    problems: tuple[Finding, ...]  #: the first problem of each tampered chain
    warnings: tuple[Finding, ...] = ()  #: rows protected only by the chain, not a checkpoint

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Finding | None:
        return self.problems[0] if self.problems else None

    def render(self) -> str:
        """A readable report (no entry contents: it may be printed anywhere)."""
        rows = sum(c.rows for c in self.chains)
        lines = [
            f"message log: {len(self.chains)} chain(s), {rows} row(s): "
            + ("INTACT" if self.intact else f"TAMPERED ({len(self.problems)} chain(s))")
        ]
        for c in self.chains:
            state = "closed" if c.closed else "open"
            signed = (
                f"{c.checkpoints} valid checkpoint(s), last at seq {c.last_checkpoint_seq}"
                if c.checkpoints
                else "no valid checkpoint"
            )
            lines.append(
                f"  {c.chain_id}: {c.rows} row(s), last seq {c.last_seq}, {signed}, {state}"
            )
        lines += [f"PROBLEM {p}" for p in self.problems]
        lines += [f"warning {w}" for w in self.warnings]
        return "\n".join(lines) + "\n"


class _Bad(Exception):
    """The first problem of a chain: verification of that chain stops there."""

    def __init__(self, seq: int, kind: str, detail: str) -> None:
        super().__init__(kind)
        self.seq, self.kind, self.detail = seq, kind, detail


@dataclass
class _ChainState:
    chain_id: str
    checkpoints: list[CheckpointLike]  #: valid ones, ordered by seq
    bad_checkpoint: _Bad | None  #: the lowest-seq untrustworthy checkpoint
    final_seq: int | None
    expected: int = 1
    digest: bytes = b""
    rows: int = 0
    next_cp: int = 0
    problem: _Bad | None = None


def verify(
    rows: Iterable[RowLike],
    checkpoints: Iterable[CheckpointLike],
    trust: CheckpointTrust,
    archived: Mapping[str, int] | None = None,
) -> VerifyReport:
    """Verify every chain of `rows` (ordered by chain id, then seq) against its checkpoints.

    `rows` may be a generator streaming from the database: it is read once, in order, and rows are
    not kept. `checkpoints` are few (one per N rows) and are held in memory.

    `archived` maps a chain to the last sequence moved to an archive: its rows start after it,
    from the head that a valid signed checkpoint at exactly that sequence names (archives are
    cut at checkpoints for that reason); without such a checkpoint the missing prefix is a
    problem. Whether the archived rows themselves are intact is for `verify` on the archive.
    """
    archived = dict(archived or {})
    by_chain: dict[str, list[CheckpointLike]] = {}
    for cp in checkpoints:
        by_chain.setdefault(str(cp.chain_id), []).append(cp)

    summaries: list[ChainSummary] = []
    problems: list[Finding] = []
    warnings: list[Finding] = []
    done: set[str] = set()

    def finish(state: _ChainState) -> None:
        done.add(state.chain_id)
        summary, problem, warning = _finish_chain(state)
        summaries.append(summary)
        if problem is not None:
            problems.append(problem)
        if warning is not None:
            warnings.append(warning)

    state: _ChainState | None = None
    for row in rows:
        chain_id = row.chain_id
        if state is None or chain_id != state.chain_id:
            if state is not None:
                finish(state)
            if chain_id in done:
                raise ValueError("rows must be ordered by chain id, then sequence")
            state = _start_chain(
                str(chain_id), by_chain.get(chain_id, []), trust, archived.get(str(chain_id), 0)
            )
        if state.problem is None:
            try:
                _step(state, row)
                state.rows += 1
            except _Bad as bad:
                state.problem = bad
    if state is not None:
        finish(state)
    # Chains that have checkpoints but no row left.
    for chain_id in sorted(set(by_chain) - done):
        finish(_start_chain(chain_id, by_chain[chain_id], trust, archived.get(chain_id, 0)))
    return VerifyReport(tuple(summaries), tuple(problems), tuple(warnings))


def _start_chain(
    chain_id: str,
    checkpoints: Sequence[CheckpointLike],
    trust: CheckpointTrust,
    archived_through: int = 0,
) -> _ChainState:
    valid: list[CheckpointLike] = []
    bad: _Bad | None = None
    for cp in checkpoints:
        problem = trust.problem(cp)
        seq = cp.seq if type(cp.seq) is int else 0
        if problem is None:
            valid.append(cp)
        elif bad is None or seq < bad.seq:
            bad = _Bad(seq, *problem)
    valid.sort(key=lambda cp: cp.seq)
    finals = [cp.seq for cp in valid if cp.final]
    state = _ChainState(chain_id, valid, bad, min(finals) if finals else None)
    state.digest = genesis(chain_id)
    if archived_through > 0:
        anchor = [cp for cp in valid if cp.seq == archived_through]
        if not anchor:
            state.problem = _Bad(
                archived_through,
                "ARCHIVE_UNANCHORED",
                f"rows 1..{archived_through} are said to be archived, but no valid signed "
                "checkpoint names the head there",
            )
            return state
        # Verification resumes after the archive, from the signed head.
        state.digest = bytes.fromhex(anchor[0].head_hash)
        state.expected = archived_through + 1
        # The anchor stays first (it is the chain's last signed point so far) but is used.
        state.checkpoints = [cp for cp in valid if cp.seq >= archived_through]
        state.next_cp = 1
        if bad is not None and bad.seq <= archived_through:
            state.bad_checkpoint = None  # judged with the archive that holds those rows
    return state


def _step(state: _ChainState, row: RowLike) -> None:
    seq = row.seq
    if type(seq) is not int:
        raise _Bad(state.expected, "ROW_MALFORMED", "the sequence number is not an integer")
    if seq < state.expected:
        raise _Bad(seq, "SEQUENCE_DUPLICATE", "a second row has this sequence number")
    if seq > state.expected:
        raise _Bad(
            state.expected,
            "SEQUENCE_GAP",
            f"rows {state.expected}..{seq - 1} are missing (deleted)",
        )
    if state.final_seq is not None and seq > state.final_seq:
        raise _Bad(
            seq,
            "ROW_AFTER_FINAL_CHECKPOINT",
            f"the chain was closed at seq {state.final_seq}; this row was added later",
        )
    cps = state.checkpoints
    # Checkpoints before this row (the opening one, at seq 0) name the previous head.
    while state.next_cp < len(cps) and cps[state.next_cp].seq < seq:
        _check_head(state, cps[state.next_cp], state.digest)
        state.next_cp += 1
    try:
        digest = chain_hash(state.digest, state.chain_id, seq, row)
    except (TypeError, ValueError, AttributeError) as exc:
        raise _Bad(seq, "ROW_MALFORMED", f"the row cannot be encoded ({exc})") from None
    if digest.hex() != row.row_hash:
        raise _Bad(seq, "ROW_HASH_MISMATCH", "the row's content does not match its hash (edited)")
    while state.next_cp < len(cps) and cps[state.next_cp].seq == seq:
        _check_head(state, cps[state.next_cp], digest)
        state.next_cp += 1
    state.digest = digest
    state.expected = seq + 1


def _check_head(state: _ChainState, cp: CheckpointLike, digest: bytes) -> None:
    if cp.head_hash != digest.hex():
        previous = [c.seq for c in state.checkpoints[: state.next_cp] if c.seq < cp.seq]
        since = (previous[-1] if previous else 0) + 1
        raise _Bad(
            cp.seq,
            "CHECKPOINT_MISMATCH",
            f"the recomputed head differs from the signed checkpoint: "
            f"rows {since}..{cp.seq} were rewritten",
        )


def _finish_chain(state: _ChainState) -> tuple[ChainSummary, Finding | None, Finding | None]:
    last = state.expected - 1
    if state.problem is None:
        try:
            cps = state.checkpoints
            # Opening checkpoints (seq 0) name the genesis digest.
            while state.next_cp < len(cps) and cps[state.next_cp].seq <= last:
                _check_head(state, cps[state.next_cp], state.digest)
                state.next_cp += 1
            if state.next_cp < len(cps):
                beyond = cps[-1].seq
                raise _Bad(
                    last + 1,
                    "CHECKPOINT_BEYOND_END",
                    f"the chain ends at seq {last} but is signed up to seq {beyond}: "
                    f"rows {last + 1}..{beyond} are missing (truncated)",
                )
            if last > 0 and not cps:
                raise _Bad(1, "CHAIN_UNSIGNED", "no valid checkpoint signs this chain")
        except _Bad as bad:
            state.problem = bad
    # A forged checkpoint is a problem even where the rows are fine; report the lower sequence.
    first = state.problem
    if state.bad_checkpoint is not None and (first is None or state.bad_checkpoint.seq < first.seq):
        first = state.bad_checkpoint
    problem = Finding(state.chain_id, first.seq, first.kind, first.detail) if first else None
    last_cp = state.checkpoints[-1].seq if state.checkpoints else -1
    warning = None
    if problem is None and state.final_seq is None and last > max(last_cp, 0):
        warning = Finding(
            state.chain_id,
            max(last_cp, 0) + 1,
            "UNCHECKPOINTED_TAIL",
            f"rows {max(last_cp, 0) + 1}..{last} follow the last checkpoint and are protected "
            "only by the chain (the writer is running or did not stop cleanly)",
        )
    summary = ChainSummary(
        state.chain_id,
        state.rows,
        last,
        len(state.checkpoints),
        last_cp,
        state.final_seq is not None,
    )
    return summary, problem, warning


def iter_chain_rows(
    pages: Callable[[tuple[str, int] | None], Sequence[RowLike]],
) -> Iterator[RowLike]:
    """Rows in (chain id, seq) order from a keyset-paginated source, one page at a time.

    `pages(after)` returns the rows strictly after the key `after` (None: from the start), in
    order; an empty page ends the stream.
    """
    after: tuple[str, int] | None = None
    while True:
        page = pages(after)
        if not page:
            return
        yield from page
        after = (page[-1].chain_id, page[-1].seq)
