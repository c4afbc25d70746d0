"""A mutuality as a real server over mTLS: it answers routers only, for its own members, on the
reference date, with the errors its contract lists."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.type import date_pb2

from cbss.mutuality.v1 import mutuality_pb2, mutuality_pb2_grpc
from mutuality.config import Settings
from mutuality.server import create_server
from mutuality.service.model import Affiliation, Insurability, Role
from mutuality.storage import MIGRATIONS
from mutuality.storage.repository import unit_factory
from runtime.client import failure
from runtime.config import ConfigError
from runtime.db import Database
from runtime.identity import (
    CAPACITY_HEADER,
    LEGAL_CONTEXT_HEADER,
    REQUESTER_HEADER,
    TICKET_HEADER,
)
from runtime.server import ServiceHost
from tests.support.databases import fresh_database_url
from tests.support.servers import channel_as, running, service_env

pytestmark = pytest.mark.integration

MAN, WOMAN = "85071412330", "03020100274"
ONEM = "spiffe://carrefour.local/institution/onem"


@pytest.fixture(scope="module")
def mutuality(pki_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceHost]:
    with fresh_database_url(tmp_path_factory.mktemp("mut"), "mut-100") as url:
        db = Database(url)
        db.migrate(MIGRATIONS)
        with unit_factory(db, "mut-100")() as unit:
            unit.affiliations.add_all(
                [
                    Affiliation(
                        "mut-100",
                        MAN,
                        dt.date(2003, 9, 1),
                        dt.date(2010, 12, 31),
                        Role.HOLDER,
                        Insurability.INSURED,
                    ),
                    Affiliation(
                        "mut-100", MAN, dt.date(2015, 1, 1), None, Role.HOLDER, Insurability.INSURED
                    ),
                ]
            )
        db.dispose()
        env = service_env(pki_dir, "institution-mut-100", url, MUTUALITY_ID="mut-100")
        with running(create_server(Settings.from_env(env))) as host:
            yield host


def _routed(requester: str = ONEM) -> list[tuple[str, str]]:
    return [
        (REQUESTER_HEADER, requester),
        (LEGAL_CONTEXT_HEADER, "unemployment.incapacity-check"),
        (TICKET_HEADER, str(uuid.uuid4())),
        (CAPACITY_HEADER, "none"),
    ]


def _ask(pki_dir: Path, port: int, party: str, request, metadata):  # noqa: ANN001, ANN202
    with channel_as(pki_dir, party, port) as channel:
        return mutuality_pb2_grpc.MutualityServiceStub(channel).GetAffiliation(
            request, metadata=metadata, timeout=10
        )


def test_answers_a_router_for_a_member_when_asked_on_a_date_of_membership(
    mutuality: ServiceHost, pki_dir: Path
) -> None:
    reply = _ask(
        pki_dir,
        mutuality.port,
        "hub-cin",
        mutuality_pb2.GetAffiliationRequest(
            insz=MAN, reference_date=date_pb2.Date(year=2005, month=6, day=1)
        ),
        _routed(),
    )
    a = reply.affiliation
    assert (a.name, a.mutuality, a.insz) == (f"mutualities/mut-100/members/{MAN}", "mut-100", MAN)
    assert (a.member_since.year, a.member_until.year) == (2003, 2010)
    assert a.role == mutuality_pb2.MEMBER_ROLE_HOLDER
    assert a.insurability == mutuality_pb2.INSURABILITY_STATUS_INSURED
    today = _ask(
        pki_dir, mutuality.port, "hub-cin", mutuality_pb2.GetAffiliationRequest(insz=MAN), _routed()
    )
    assert today.affiliation.member_since.year == 2015
    assert not today.affiliation.HasField("member_until")


@pytest.mark.parametrize(
    ("insz", "day", "code", "reason"),
    [
        (WOMAN, None, grpc.StatusCode.NOT_FOUND, "NOT_A_MEMBER"),
        (MAN, date_pb2.Date(year=2012, month=1, day=1), grpc.StatusCode.NOT_FOUND, "NOT_A_MEMBER"),
        (MAN, date_pb2.Date(year=2012, month=2, day=30), grpc.StatusCode.INVALID_ARGUMENT,
         "INVALID_REFERENCE_DATE"),
        ("8507141233", None, grpc.StatusCode.INVALID_ARGUMENT, "INSZ_MALFORMED"),
    ],
)  # fmt: skip
def test_refuses_with_the_contract_reason_when_not_a_member_or_invalid(
    mutuality: ServiceHost,
    pki_dir: Path,
    insz: str,
    day,
    code,
    reason: str,  # noqa: ANN001
) -> None:
    request = mutuality_pb2.GetAffiliationRequest(insz=insz, reference_date=day)
    with pytest.raises(grpc.RpcError) as err:
        _ask(pki_dir, mutuality.port, "hub-cin", request, _routed())
    info = failure(err.value)
    assert (info.code, info.reason, info.domain) == (code, reason, "mutuality.cbss")
    if reason == "NOT_A_MEMBER":
        assert info.metadata["mutuality"] == "mut-100"


@pytest.mark.parametrize("party", ["institution-onem", "institution-cin", "admin-ops"])
def test_direct_access_is_forbidden_when_the_caller_is_not_a_router(
    mutuality: ServiceHost, pki_dir: Path, party: str
) -> None:
    with pytest.raises(grpc.RpcError) as err:
        _ask(
            pki_dir,
            mutuality.port,
            party,
            mutuality_pb2.GetAffiliationRequest(insz=MAN),
            [(LEGAL_CONTEXT_HEADER, "unemployment.incapacity-check")],
        )
    info = failure(err.value)
    assert (info.code, info.reason) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "DIRECT_ACCESS_FORBIDDEN",
    )


def test_settings_name_the_instance_when_read(pki_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        Settings.from_env(service_env(pki_dir, "institution-mut-100", "sqlite://"))
    assert "MUTUALITY_ID is required" in str(err.value)
    env = {"VAR_DIR": str(tmp_path), "PKI_DIR": str(pki_dir), "MUTUALITY_ID": "mut-200"}
    settings = Settings.from_env(env)
    assert settings.runtime.database_url == f"sqlite:///{tmp_path}/db/mut-200.sqlite3"
    assert settings.runtime.tls.cert == pki_dir / "institution-mut-200.pem"
    assert (settings.hub_addr, settings.hub_name) == ("localhost:50053", "cin")
