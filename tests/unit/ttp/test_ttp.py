"""The trusted third party's rules: the codes, the keys, who may ask and what is checked first."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtime.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from runtime.identity import Caller, PartyKind
from tests.support.insz_scan import inszs_in
from ttp.config import PROJECTS_FILE
from ttp.service.coding import Coder, key_id, key_name
from ttp.service.extractions import CodedBatch, Receipt, Source, TtpExtractions
from ttp.service.projects import Project, load_projects
from ttp.storage.keys import FileKeyStore

WAREHOUSE = Caller(PartyKind.INSTITUTION, "cbss-dwh")
MAN = "85071412330"
KEY = bytes(range(32))


def test_a_code_is_the_keyed_hash_in_base32_when_computed() -> None:
    expected = base64.b32encode(hmac.new(KEY, MAN.encode(), hashlib.sha256).digest()[:20]).decode()
    assert Coder(KEY).code(MAN) == expected
    assert re.fullmatch(r"[A-Z2-7]{32}", expected)


@given(st.from_regex(r"[0-9]{11}", fullmatch=True))
def test_a_code_never_contains_eleven_digits_when_any_number_is_coded(insz: str) -> None:
    code = Coder(KEY).code(insz)
    assert len(code) == 32 and not re.search(r"[0-9]{11}", code)


def test_projects_get_their_own_key_only_when_unlinkable() -> None:
    projects = load_projects(PROJECTS_FILE)
    assert key_name(projects["dwh-standard"]) == key_name(projects["hiva-careers"]) == "common"
    assert key_name(projects["hiva-wage-gap"]) == "project-hiva-wage-gap"


def test_a_projects_file_without_unlinkability_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "projects.toml"
    path.write_text('[projects.x]\ntitle = "x"\n')
    with pytest.raises(ValueError, match="unlinkable"):
        load_projects(path)


def test_keys_are_created_once_private_and_kept_when_asked_again(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "keys")
    key = store.key("common")
    assert len(key) == 32
    path = tmp_path / "keys" / "common.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    assert FileKeyStore(tmp_path / "keys").key("common") == key  # another process, same key
    assert store.key("project-x") != key
    assert [p.name for p in (tmp_path / "keys").iterdir()] != []
    assert not any(p.name.endswith(".tmp") for p in (tmp_path / "keys").iterdir())


def test_a_damaged_key_file_stops_the_coding(tmp_path: Path) -> None:
    (tmp_path / "common.key").write_bytes(b"short")
    with pytest.raises(FailedPrecondition) as err:
        FileKeyStore(tmp_path).key("common")
    assert err.value.reason == "KEY_FILE_INVALID"


class _Extraction:
    ticket = "t-1"

    def __init__(self, batches: list[list[tuple[str, Any]]]) -> None:
        self._batches = batches

    def batches(self) -> Iterator[list[tuple[str, Any]]]:
        yield from self._batches


class _Sources:
    def __init__(self) -> None:
        self.opened: list[tuple[Source, int, int, dt.date]] = []

    def open(self, source: Source, year: int, quarter: int, last_day: dt.date) -> _Extraction:
        self.opened.append((source, year, quarter, last_day))
        return _Extraction([[(MAN, "record-1"), ("03020100274", "record-2")], [(MAN, "r3")]])


class _Keys:
    def key(self, name: str) -> bytes:
        return hashlib.sha256(name.encode()).digest()


def _ttp() -> tuple[TtpExtractions, _Sources]:
    sources = _Sources()
    projects = {
        "linked": Project("linked", "", False),
        "other": Project("other", "", False),
        "alone": Project("alone", "", True),
    }
    return TtpExtractions(projects, _Keys(), sources), sources


def test_records_are_coded_and_receipted_when_the_warehouse_asks() -> None:
    ttp, sources = _ttp()
    items = list(ttp.code_extraction(WAREHOUSE, "linked", Source.DIMONA_PERIODS, 2025, 2))
    assert sources.opened == [(Source.DIMONA_PERIODS, 2025, 2, dt.date(2025, 6, 30))]
    batches = [i for i in items if isinstance(i, CodedBatch)]
    receipt = items[-1]
    assert isinstance(receipt, Receipt)
    assert (receipt.router_ticket, receipt.records) == ("t-1", 3)
    assert receipt.key_id == key_id(_Keys().key("common"))
    codes = [code for b in batches for code, _ in b.records]
    assert codes[0] == codes[2] != codes[1]  # the same person, the same code
    assert inszs_in(" ".join(codes)) == []


def test_codes_differ_per_unlinkable_project_and_match_across_linkable_ones() -> None:
    ttp, _ = _ttp()

    def first_code(project: str) -> str:
        items = ttp.code_extraction(WAREHOUSE, project, Source.DIMONA_PERIODS, 2025, 2)
        return next(i for i in items if isinstance(i, CodedBatch)).records[0][0]

    assert first_code("linked") == first_code("other")
    assert first_code("alone") != first_code("linked")


@pytest.mark.parametrize(
    "caller",
    [
        Caller(PartyKind.INSTITUTION, "onem"),
        Caller(PartyKind.INSTITUTION, "cbss"),
        Caller(PartyKind.ADMIN, "ops"),
        Caller(PartyKind.ROUTER, "cbss"),
    ],
)
def test_anyone_but_the_warehouse_is_refused_before_anything_is_extracted(caller: Caller) -> None:
    ttp, sources = _ttp()
    with pytest.raises(PermissionDenied) as err:
        ttp.code_extraction(caller, "linked", Source.DIMONA_PERIODS, 2025, 2)
    assert err.value.reason == "NOT_AUTHORISED" and sources.opened == []


@pytest.mark.parametrize(
    ("project", "source", "year", "quarter", "error", "reason"),
    [
        ("Bad Id", Source.DIMONA_PERIODS, 2025, 2, InvalidArgument, "INVALID_PROJECT"),
        ("linked", None, 2025, 2, InvalidArgument, "INVALID_SOURCE"),
        ("linked", Source.DIMONA_PERIODS, 2025, 5, InvalidArgument, "INVALID_QUARTER"),
        ("linked", Source.DIMONA_PERIODS, 1999, 1, InvalidArgument, "INVALID_QUARTER"),
        ("nobody", Source.DIMONA_PERIODS, 2025, 2, NotFound, "UNKNOWN_PROJECT"),
    ],
)
def test_bad_requests_are_refused_before_anything_is_extracted(
    project: str, source: Source | None, year: int, quarter: int, error: type, reason: str
) -> None:
    ttp, sources = _ttp()
    with pytest.raises(error) as err:
        ttp.code_extraction(WAREHOUSE, project, source, year, quarter)
    assert err.value.reason == reason and sources.opened == []
