"""The DmfA for the portal, a real server over mTLS on a real database (SQLite, or PostgreSQL
when TEST_DATABASE_URL is set), its network scripted (tests.unit.dmfa.fakes): people acting for
an employer as the edge forwards them (the gateway's certificate and `x-carrefour-claims`) — a
reader reads the employer's declarations but is refused READ_ONLY_ROLE on SubmitDeclaration,
before anything is checked or stored; a declarant's version records and returns the acting
person (kept when someone else resends it); certificate callers are unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa

from cbss.dmfa.v1 import dmfa_pb2, dmfa_pb2_grpc
from dmfa.config import Settings as DmfaSettings
from dmfa.seed.command import load as load_dmfa
from dmfa.server import create_server as create_dmfa
from dmfa.storage import MIGRATIONS
from runtime.client import failure, party_tls, secure_channel
from runtime.clock import FixedClock
from runtime.db import Database
from runtime.identifiers import make_insz
from runtime.server import ServiceHost
from tests.integration.drs.portal import claims
from tests.support.servers import running, service_env
from tests.unit.dmfa.builders import EMPLOYER, WORKER, chunks, pb_header, pb_person, person
from tests.unit.dmfa.fakes import NOW, FakeNetwork

pytestmark = pytest.mark.integration

RETAIL = EMPLOYER  # 000100006
STATE = "000935467"
JAN = make_insz(birth_year=1970, birth_month=2, birth_day=3, serial=45)  # acts for RETAIL
ANNA = make_insz(birth_year=1975, birth_month=11, birth_day=20, serial=46)  # acts for RETAIL


@dataclass
class Dmfa:
    pki_dir: Path
    host: ServiceHost
    network: FakeNetwork
    url: str
    channels: dict[str, grpc.Channel] = field(default_factory=dict)

    def api(self, party: str = f"employer-{RETAIL}") -> dmfa_pb2_grpc.DmfaServiceStub:
        if party not in self.channels:
            self.channels[party] = secure_channel(
                f"localhost:{self.host.port}", party_tls(self.pki_dir, party)
            )
        return dmfa_pb2_grpc.DmfaServiceStub(self.channels[party])

    def versions(self) -> list[tuple[str, str, str]]:
        """(employer, submission reference, acting person) of every stored version."""
        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    sa.text(
                        "SELECT employer, submission_reference, acting_person FROM version"
                        " ORDER BY id"
                    )
                )
                return [tuple(r) for r in rows]
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def dmfa(pki_dir: Path, module_database_url: str) -> Iterator[Dmfa]:
    db = Database(module_database_url)
    db.migrate(MIGRATIONS)
    load_dmfa(db)
    db.dispose()
    network = FakeNetwork()
    host = create_dmfa(
        DmfaSettings.from_env(
            service_env(pki_dir, "onss", module_database_url, QUOTA_IDLE_SECONDS="0.05")
        ),
        clock=FixedClock(NOW),
        network=network,
    )
    with running(host):
        state = Dmfa(pki_dir, host, network, module_database_url)
        yield state
        for channel in state.channels.values():
            channel.close()


def _stream(employer: str, reference: str) -> list[dmfa_pb2.SubmitDeclarationRequest]:
    return chunks([pb_person(person(WORKER))], header=pb_header(employer, reference=reference))


def _submit(dmfa: Dmfa, employer: str, reference: str, party: str, metadata=()):  # noqa: ANN001, ANN202
    dmfa.network.cover(person(WORKER), employer=employer)
    return (
        dmfa.api(party)
        .SubmitDeclaration(iter(_stream(employer, reference)), metadata=list(metadata), timeout=30)
        .version
    )


def _refusal(call) -> tuple[grpc.StatusCode, str, str]:  # noqa: ANN001
    with pytest.raises(grpc.RpcError) as caught:
        call()
    info = failure(caught.value)
    return info.code, info.reason, info.domain


def test_a_reader_is_refused_read_only_role_before_anything_is_checked(dmfa: Dmfa) -> None:
    before, asked = dmfa.versions(), list(dmfa.network.asked)
    reader = [claims(JAN, RETAIL, "reader")]
    assert _refusal(lambda: _submit(dmfa, RETAIL, "reader-1", "gateway", reader)) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "READ_ONLY_ROLE",
        "dmfa.cbss",
    )
    assert dmfa.versions() == before and dmfa.network.asked == asked
    # For another employer, the employer check answers first.
    code, reason, _ = _refusal(lambda: _submit(dmfa, STATE, "reader-2", "gateway", reader))
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_OWN_EMPLOYER")


def test_a_declarants_version_records_the_acting_person_and_a_reader_reads_it(
    dmfa: Dmfa,
) -> None:
    version = _submit(dmfa, RETAIL, "portal-1", "gateway", [claims(JAN, RETAIL, "declarant")])
    assert version.status == dmfa_pb2.VERSION_STATUS_ACCEPTED, version.anomalies
    assert version.submitted_by == f"spiffe://carrefour.local/employer/{RETAIL}"
    assert version.acting_person == JAN
    assert (RETAIL, "portal-1", JAN) in dmfa.versions()
    # Resent by another person, or by the employer's certificate: the stored version.
    for party, metadata in (("gateway", [claims(ANNA, RETAIL, "declarant")]), (None, [])):
        again = _submit(dmfa, RETAIL, "portal-1", party or f"employer-{RETAIL}", metadata)
        assert again.name == version.name and again.acting_person == JAN
    assert [v for v in dmfa.versions() if v[1] == "portal-1"] == [(RETAIL, "portal-1", JAN)]
    # A reader reads it, with who acted.
    reader = [claims(ANNA, RETAIL, "reader")]
    got = (
        dmfa.api("gateway")
        .GetDeclarationVersion(
            dmfa_pb2.GetDeclarationVersionRequest(name=version.name), metadata=reader, timeout=10
        )
        .version
    )
    assert got.acting_person == JAN and got.current
    listed = dmfa.api("gateway").ListDeclarations(
        dmfa_pb2.ListDeclarationsRequest(parent=f"employers/{RETAIL}"),
        metadata=reader,
        timeout=10,
    )
    assert [d.current.acting_person for d in listed.declarations] == [JAN]


def test_a_certificate_caller_records_no_acting_person(dmfa: Dmfa) -> None:
    version = _submit(dmfa, STATE, "cert-1", f"employer-{STATE}")
    assert version.status == dmfa_pb2.VERSION_STATUS_ACCEPTED, version.anomalies
    assert version.acting_person == ""
    assert (STATE, "cert-1", "") in dmfa.versions()
