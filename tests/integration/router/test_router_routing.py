"""The router end to end: real registry, real router, a holder that counts what reaches it."""

from __future__ import annotations

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import field_mask_pb2

from cbss.registry.v1 import registry_pb2, registry_pb2_grpc
from cbss.router.v1 import router_admin_pb2, router_admin_pb2_grpc
from registry.seed.population import (
    FIXED_DECEASED,
    FIXED_MAN,
    FIXED_REPLACED,
    FIXED_REPLACEMENT,
    FIXED_WOMAN,
)
from router.storage.message_log import verify_database
from runtime.client import failure
from runtime.db import Database
from runtime.identifiers import make_insz
from runtime.identity import router_ticket
from tests.integration.router.conftest import Network, integrate, routed

pytestmark = pytest.mark.integration

UNKNOWN = make_insz(birth_year=1950, birth_month=1, birth_day=1, serial=997)
MASK = field_mask_pb2.FieldMask(paths=["identity"])


@pytest.fixture(scope="module", autouse=True)
def directory(network: Network) -> None:
    integrate(network, "institution-onem", [FIXED_MAN, FIXED_DECEASED, FIXED_REPLACED], 18, 1)


def _get(network: Network, party: str, insz: str, metadata, mask=MASK):  # noqa: ANN001, ANN202
    with network.channel(party) as channel:
        stub = registry_pb2_grpc.RegistryServiceStub(channel)
        return stub.GetPerson.with_call(
            registry_pb2.GetPersonRequest(insz=insz, read_mask=mask), metadata=metadata, timeout=10
        )


def _refused(network: Network, party: str, insz: str, metadata, mask=MASK):  # noqa: ANN001, ANN202
    before = network.seen.calls
    with pytest.raises(grpc.RpcError) as err:
        _get(network, party, insz, metadata, mask)
    assert network.seen.calls == before, "a refused request must not reach the holder"
    ticket = router_ticket(err.value)
    assert ticket, "the caller learns the router's ticket on a refusal too"
    return failure(err.value), ticket


def _log_rows(network: Network, ticket: str) -> list[sa.Row]:
    db = Database(network.router_db)
    try:
        with db.engine.connect() as conn:
            return conn.execute(
                sa.text("SELECT * FROM message_log WHERE ticket = :t ORDER BY seq"), {"t": ticket}
            ).all()
    finally:
        db.dispose()


def test_consultation_is_forwarded_and_logged_when_every_check_passes(network: Network) -> None:
    reply, call = _get(
        network, "institution-onem", FIXED_MAN, routed(**{"cbss-customer-ticket": "my-1"})
    )
    assert reply.person.insz == FIXED_MAN
    ticket = router_ticket(call)
    assert network.seen.requesters[-1] == "spiffe://carrefour.local/institution/onem"
    assert network.seen.legal_contexts[-1] == "unemployment.control"
    assert network.seen.capacities[-1] == "18/1"
    rows = _log_rows(network, ticket)
    assert [(r.subject, r.outcome, r.capacity, r.destination) for r in rows][0] == (
        FIXED_MAN,
        "FORWARDED",
        "18/1",
        "nr",
    )
    assert rows[0].request_digest and rows[0].response_digest


@pytest.mark.parametrize(
    ("party", "insz", "metadata", "reason"),
    [
        ("institution-fedris", FIXED_MAN, routed(), "UNKNOWN_INSTITUTION"),
        ("institution-famiwal", FIXED_MAN, routed(), "NOT_AUTHORISED"),
        ("institution-onem", FIXED_MAN, routed(None), "LEGAL_CONTEXT_MISSING"),
        (
            "institution-onem",
            FIXED_MAN,
            routed("health-insurance.x"),
            "LEGAL_CONTEXT_NOT_AUTHORISED",
        ),
        ("institution-onem", "85071412331", routed(), "SUBJECT_MALFORMED"),
        ("institution-onem", UNKNOWN, routed(), "PERSON_NOT_FOUND"),
        ("institution-onem", FIXED_REPLACED, routed(), "PERSON_REPLACED"),
        ("institution-onem", FIXED_DECEASED, routed(), "PERSON_DECEASED"),
        ("institution-onem", FIXED_WOMAN, routed(), "SUBJECT_NOT_INTEGRATED"),
    ],
)
def test_each_failing_check_gives_its_reason_and_holder_gets_nothing_when_refused(
    network: Network, party: str, insz: str, metadata, reason: str
) -> None:
    info, ticket = _refused(network, party, insz, metadata)
    assert info.reason == reason
    if reason == "PERSON_REPLACED":
        assert info.metadata["replaced_by"] == FIXED_REPLACEMENT
    rows = _log_rows(network, ticket)
    assert rows and all(r.outcome == "REFUSED" and r.reason == reason for r in rows)
    # Logged per person named, whatever the check that refused (who tried to consult whom).
    assert [r.subject for r in rows] == [insz]


@pytest.mark.parametrize("insz", [FIXED_DECEASED, FIXED_REPLACED, UNKNOWN])
def test_unauthorised_caller_learns_nothing_about_the_person_when_refused(
    network: Network, insz: str
) -> None:
    info, _ = _refused(network, "institution-famiwal", insz, routed())
    assert info.reason == "NOT_AUTHORISED"
    assert "replaced_by" not in info.metadata


def test_read_mask_beyond_cap_is_refused_when_authorisation_caps_it(network: Network) -> None:
    mask = field_mask_pb2.FieldMask(paths=["identity", "death"])
    info, _ = _refused(network, "institution-onem", FIXED_MAN, routed(), mask)
    assert info.reason == "READ_MASK_EXCEEDS_CAP" and info.metadata["beyond"] == "death"


def test_identification_flow_passes_without_directory_when_check_is_none(network: Network) -> None:
    reply, call = _get(network, "onss", FIXED_WOMAN, routed("employment.identification"))
    assert reply.person.insz == FIXED_WOMAN
    rows = _log_rows(network, router_ticket(call))
    assert rows[0].capacity == "none"


def test_every_failing_subject_is_listed_when_request_names_several(network: Network) -> None:
    before = network.seen.calls
    with network.channel("institution-onem") as channel:
        stub = registry_pb2_grpc.RegistryServiceStub(channel)
        with pytest.raises(grpc.RpcError) as err:
            stub.GetPersonStatuses(
                registry_pb2.GetPersonStatusesRequest(inszs=[FIXED_MAN, UNKNOWN, FIXED_WOMAN]),
                metadata=routed(),
                timeout=10,
            )
        ok = stub.GetPersonStatuses(
            registry_pb2.GetPersonStatusesRequest(inszs=[FIXED_MAN]), metadata=routed(), timeout=10
        )
    info = failure(err.value)
    assert info.reason == "SUBJECTS_REFUSED"
    assert info.preconditions == (
        ("PERSON_NOT_FOUND", "inszs[1]", "person not found"),
        ("SUBJECT_NOT_INTEGRATED", "inszs[2]", "subject not integrated"),
    )
    assert [s.insz for s in ok.statuses] == [FIXED_MAN]
    assert network.seen.calls == before + 1


def test_forged_requester_header_is_not_forwarded_when_caller_sends_one(network: Network) -> None:
    forged = routed(**{"cbss-requester": "spiffe://carrefour.local/institution/onss"})
    _get(network, "institution-onem", FIXED_MAN, forged)
    assert network.seen.requesters[-1] == "spiffe://carrefour.local/institution/onem"


def test_holder_refuses_a_consultation_when_called_directly(network: Network) -> None:
    from tests.support.servers import channel_as

    with channel_as(network.pki_dir, "institution-onem", network.holder.port) as channel:
        with pytest.raises(grpc.RpcError) as err:
            registry_pb2_grpc.RegistryServiceStub(channel).GetPerson(
                registry_pb2.GetPersonRequest(insz=FIXED_MAN, read_mask=MASK),
                metadata=routed(),
                timeout=10,
            )
    assert failure(err.value).reason == "DIRECT_ACCESS_FORBIDDEN"


def test_suspension_and_revocation_apply_on_the_next_call_when_an_admin_acts(
    network: Network,
) -> None:
    with network.channel("admin-ops") as channel:
        admin = router_admin_pb2_grpc.RouterAdminServiceStub(channel)
        admin.SuspendInstitution(
            router_admin_pb2.SuspendInstitutionRequest(name="institutions/onem", reason="audit"),
            timeout=10,
        )
        info, _ = _refused(network, "institution-onem", FIXED_MAN, routed())
        assert info.reason == "INSTITUTION_SUSPENDED"
        admin.ReactivateInstitution(
            router_admin_pb2.ReactivateInstitutionRequest(name="institutions/onem"), timeout=10
        )
        _get(network, "institution-onem", FIXED_MAN, routed())
        grants = admin.ListAuthorisations(
            router_admin_pb2.ListAuthorisationsRequest(requester="onem"), timeout=10
        ).authorisations
        get_person = next(a for a in grants if a.method == "GetPerson")
        admin.RevokeAuthorisation(
            router_admin_pb2.RevokeAuthorisationRequest(name=get_person.name, reason="ended"),
            timeout=10,
        )
        info, _ = _refused(network, "institution-onem", FIXED_MAN, routed())
        assert info.reason == "NOT_AUTHORISED"
        # Put it back for the other tests of this module.
        get_person.ClearField("name")
        get_person.ClearField("state")
        admin.GrantAuthorisation(
            router_admin_pb2.GrantAuthorisationRequest(authorisation=get_person), timeout=10
        )
    _get(network, "institution-onem", FIXED_MAN, routed())


def test_admin_api_is_refused_when_caller_is_not_an_administrator(network: Network) -> None:
    with network.channel("institution-onem") as channel:
        with pytest.raises(grpc.RpcError) as err:
            router_admin_pb2_grpc.RouterAdminServiceStub(channel).SuspendInstitution(
                router_admin_pb2.SuspendInstitutionRequest(name="institutions/onss", reason="x"),
                timeout=10,
            )
    assert failure(err.value).reason == "ADMIN_ONLY"


def test_admin_acts_are_in_the_message_log_when_made(network: Network) -> None:
    db = Database(network.router_db)
    try:
        with db.engine.connect() as conn:
            acts = conn.execute(
                sa.text("SELECT requester, method FROM message_log WHERE outcome = 'ADMIN_ACT'")
            ).all()
    finally:
        db.dispose()
    assert ("spiffe://carrefour.local/admin/ops", "RegisterInstitution") in acts
    assert ("spiffe://carrefour.local/admin/ops", "GrantAuthorisation") in acts


def test_message_log_verifies_intact_when_router_has_worked(network: Network) -> None:
    db = Database(network.router_db)
    try:
        report = verify_database(db, (network.pki_dir / "ca.pem").read_bytes())
    finally:
        db.dispose()
    assert report.intact, report.render()


def test_holder_down_is_unavailable_naming_the_holder_when_it_does_not_answer(
    network: Network,
) -> None:
    import datetime as dt

    from google.protobuf import descriptor_pb2

    from cbss.echo.v1 import echo_pb2, echo_pb2_grpc
    from router.seed import contract_files
    from tests.integration.router.conftest import date

    files = descriptor_pb2.FileDescriptorSet(
        file=[
            descriptor_pb2.FileDescriptorProto.FromString(f)
            for f in contract_files(echo_pb2.DESCRIPTOR)
        ]
    )
    with network.channel("admin-ops") as channel:
        admin = router_admin_pb2_grpc.RouterAdminServiceStub(channel)
        admin.RegisterService(
            router_admin_pb2.RegisterServiceRequest(
                registration=router_admin_pb2.ServiceRegistration(
                    service="cbss.echo.v1.EchoService", provider="nr", endpoint="localhost:1"
                ),
                file_descriptor_set=files.SerializeToString(),
            ),
            timeout=10,
        )
        admin.GrantAuthorisation(
            router_admin_pb2.GrantAuthorisationRequest(
                authorisation=router_admin_pb2.Authorisation(
                    deliberation="ISC/00/000",
                    requester="onem",
                    service="cbss.echo.v1.EchoService",
                    method="Echo",
                    legal_contexts=["unemployment.control"],
                    directory_check=router_admin_pb2.DIRECTORY_CHECK_NONE,
                    valid_from=date(dt.date(2020, 1, 1)),
                )
            ),
            timeout=10,
        )
    with network.channel("institution-onem") as channel:
        with pytest.raises(grpc.RpcError) as err:
            echo_pb2_grpc.EchoServiceStub(channel).Echo(
                echo_pb2.EchoRequest(payload=b"x"), metadata=routed(), timeout=10
            )
    info = failure(err.value)
    assert info.code is grpc.StatusCode.UNAVAILABLE
    assert info.reason == "HOLDER_UNAVAILABLE" and info.metadata["holder"] == "nr"


def test_garbage_request_is_malformed_when_bytes_are_not_the_method_type(network: Network) -> None:
    with network.channel("institution-onem") as channel:
        call = channel.unary_unary("/cbss.registry.v1.RegistryService/GetPerson")
        with pytest.raises(grpc.RpcError) as err:
            call(b"\x0a\xff\xff", metadata=routed(), timeout=10)
    assert failure(err.value).reason == "MALFORMED_MESSAGE"


@pytest.mark.parametrize(
    ("authorisation", "reason"),
    [
        (router_admin_pb2.Authorisation(requester="onem"), "MISSING_DATE"),
        (
            router_admin_pb2.Authorisation(
                deliberation="ISC/1",
                requester="nobody",
                service="cbss.registry.v1.RegistryService",
                legal_contexts=["x"],
                directory_check=router_admin_pb2.DIRECTORY_CHECK_NONE,
                valid_from={"year": 2020, "month": 1, "day": 1},
            ),
            "REQUESTER_NOT_REGISTERED",
        ),
        (
            router_admin_pb2.Authorisation(
                deliberation="ISC/1",
                requester="onem",
                service="cbss.registry.v1.RegistryService",
                legal_contexts=["x"],
                valid_from={"year": 2020, "month": 1, "day": 1},
            ),
            "INVALID_AUTHORISATION",  # REQUIRED without capacities
        ),
    ],
)
def test_bad_grant_is_refused_with_its_reason_when_admin_sends_one(
    network: Network, authorisation, reason: str
) -> None:
    with network.channel("admin-ops") as channel:
        with pytest.raises(grpc.RpcError) as err:
            router_admin_pb2_grpc.RouterAdminServiceStub(channel).GrantAuthorisation(
                router_admin_pb2.GrantAuthorisationRequest(authorisation=authorisation), timeout=10
            )
    assert failure(err.value).reason == reason


def test_directory_entries_are_refused_when_outside_the_institution_sectors(
    network: Network,
) -> None:
    with pytest.raises(grpc.RpcError) as err:
        integrate(network, "institution-onem", [FIXED_WOMAN], 11, 1)
    assert failure(err.value).reason == "SECTOR_NOT_AUTHORISED"
    with pytest.raises(grpc.RpcError) as bad:
        integrate(network, "institution-onem", ["123"], 18, 1)
    assert failure(bad.value).code is grpc.StatusCode.INVALID_ARGUMENT


def test_institution_lists_only_its_own_entries_when_it_asks(network: Network) -> None:
    from cbss.router.v1 import directory_pb2, directory_pb2_grpc

    with network.channel("institution-onem") as channel:
        listed = directory_pb2_grpc.DirectoryServiceStub(channel).ListEntries(
            directory_pb2.ListEntriesRequest(page_size=2), timeout=10
        )
        rest = directory_pb2_grpc.DirectoryServiceStub(channel).ListEntries(
            directory_pb2.ListEntriesRequest(page_size=2, page_token=listed.next_page_token),
            timeout=10,
        )
    inszs = [e.insz for e in [*listed.entries, *rest.entries]]
    assert sorted(inszs) == sorted([FIXED_MAN, FIXED_DECEASED, FIXED_REPLACED])
    assert {e.institution for e in listed.entries} == {"onem"}


def test_persons_a_reply_reveals_are_logged_when_method_names_no_subject(network: Network) -> None:
    from tests.integration.router.conftest import FOUND_BY_SEARCH

    with network.channel("onss") as channel:
        reply, call = registry_pb2_grpc.RegistryServiceStub(channel).SearchPersons.with_call(
            registry_pb2.SearchPersonsRequest(last_name="peeters"),
            metadata=routed("employment.identification"),
            timeout=10,
        )
    assert [p.insz for p in reply.persons] == list(FOUND_BY_SEARCH)
    rows = _log_rows(network, router_ticket(call))
    assert [(r.subject, r.outcome) for r in rows] == [
        ("", "FORWARDED"),
        *[(insz, "REVEALED") for insz in FOUND_BY_SEARCH],
    ]


def test_death_recorded_in_the_register_is_refused_on_the_next_call_when_person_was_checked(
    network: Network,
) -> None:
    from google.type import date_pb2

    from registry.seed.population import FIXED_WOMAN_2006
    from tests.support.servers import channel_as

    integrate(network, "institution-onem", [FIXED_WOMAN_2006], 18, 1)
    _get(network, "institution-onem", FIXED_WOMAN_2006, routed())  # alive in the router's index
    with channel_as(network.pki_dir, "registry", network.registry.port) as channel:
        registry_pb2_grpc.RegistryServiceStub(channel).RecordDeath(
            registry_pb2.RecordDeathRequest(
                insz=FIXED_WOMAN_2006,
                request_id="death-1",
                date_of_death=date_pb2.Date(year=2026, month=11, day=1),
                place="Liège",
            ),
            timeout=10,
        )
    with pytest.raises(grpc.RpcError) as err:  # the very next call: no wait, no retry
        _get(network, "institution-onem", FIXED_WOMAN_2006, routed())
    assert failure(err.value).reason == "PERSON_DECEASED"


def test_metaservices_tell_a_caller_what_it_may_use_when_it_asks(network: Network) -> None:
    from cbss.router.v1 import meta_pb2, meta_pb2_grpc

    with network.channel("institution-onem") as channel:
        meta = meta_pb2_grpc.MetaServiceStub(channel)
        institutions = meta.ListNetworkInstitutions(
            meta_pb2.ListNetworkInstitutionsRequest(), timeout=10
        ).institutions
        allowed = meta.ListAllowedMethods(meta_pb2.ListAllowedMethodsRequest(), timeout=10).allowed
        described = meta.DescribeService(
            meta_pb2.DescribeServiceRequest(service="cbss.registry.v1.RegistryService"), timeout=10
        ).registrations
        with pytest.raises(grpc.RpcError) as err:
            meta.DescribeService(meta_pb2.DescribeServiceRequest(service="no.Such"), timeout=10)
    assert {"onem", "nr", "famiwal"} <= {i.id for i in institutions}
    assert all(not i.sectors for i in institutions)
    assert ("cbss.registry.v1.RegistryService", "GetPerson") in {
        (a.service, a.method) for a in allowed
    }
    get_person = next(m for m in described[0].methods if m.path.endswith("/GetPerson"))
    assert list(get_person.subject_fields) == ["insz"]
    assert failure(err.value).reason == "UNKNOWN_SERVICE"


@pytest.mark.parametrize(
    ("descriptor_set", "reason"),
    [
        (b"\xff\xff\xff", "INVALID_DESCRIPTOR_SET"),
        # A file that imports one the set does not hold.
        (
            __import__("google.protobuf.descriptor_pb2", fromlist=["x"])
            .FileDescriptorSet(
                file=[
                    {
                        "name": "x/v1/x.proto",
                        "package": "x.v1",
                        "dependency": ["x/v1/missing.proto"],
                        "service": [{"name": "XService"}],
                    }
                ]
            )
            .SerializeToString(),
            "INVALID_DESCRIPTORS",
        ),
    ],
)
def test_bad_descriptor_set_is_invalid_argument_when_a_service_is_registered(
    network: Network, descriptor_set: bytes, reason: str
) -> None:
    with network.channel("admin-ops") as channel:
        with pytest.raises(grpc.RpcError) as err:
            router_admin_pb2_grpc.RouterAdminServiceStub(channel).RegisterService(
                router_admin_pb2.RegisterServiceRequest(
                    registration=router_admin_pb2.ServiceRegistration(
                        service="x.v1.XService", provider="nr", endpoint="localhost:1"
                    ),
                    file_descriptor_set=descriptor_set,
                ),
                timeout=10,
            )
    assert failure(err.value).code is grpc.StatusCode.INVALID_ARGUMENT
    assert failure(err.value).reason == reason


def _own_methods() -> list[str]:
    from cbss.router.v1 import directory_pb2, message_log_pb2, meta_pb2

    return [
        f"/{service.full_name}/{method.name}"
        for module in (router_admin_pb2, directory_pb2, message_log_pb2, meta_pb2)
        for service in module.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    ]


@pytest.mark.parametrize("path", _own_methods())
@pytest.mark.parametrize("party", ["admin-ops", "institution-onem"])
def test_garbage_bytes_are_invalid_argument_never_internal_when_sent_to_any_router_method(
    network: Network, path: str, party: str
) -> None:
    with network.channel(party) as channel:
        with pytest.raises(grpc.RpcError) as err:
            channel.unary_unary(path)(b"\x0a\xff\xff\xff", timeout=10)
    assert failure(err.value).code is grpc.StatusCode.INVALID_ARGUMENT
    assert failure(err.value).reason == "MALFORMED_MESSAGE"


@pytest.mark.parametrize("path", _own_methods())
def test_empty_request_is_never_internal_when_sent_to_any_router_method(
    network: Network, path: str
) -> None:
    with network.channel("admin-ops") as channel:
        try:
            channel.unary_unary(path)(b"", timeout=10)
        except grpc.RpcError as exc:
            assert failure(exc).code is not grpc.StatusCode.INTERNAL, failure(exc)
            assert failure(exc).reason


def _deceased_policy(network: Network, policy: int) -> None:
    from cbss.router.v1 import router_admin_pb2, router_admin_pb2_grpc

    with network.channel("admin-ops") as channel:
        router_admin_pb2_grpc.RouterAdminServiceStub(channel).RegisterService(
            router_admin_pb2.RegisterServiceRequest(
                registration=router_admin_pb2.ServiceRegistration(
                    service="cbss.registry.v1.RegistryService",
                    provider="nr",
                    endpoint=f"localhost:{network.holder.port}",
                    deceased_policy=policy,
                )
            ),
            timeout=10,
        )


def test_deceased_flag_and_ticket_share_the_trailers_when_policy_passes_with_flag(
    network: Network,
) -> None:
    from cbss.router.v1 import router_admin_pb2

    _deceased_policy(network, router_admin_pb2.DECEASED_POLICY_PASS_WITH_FLAG)
    try:
        reply, call = _get(network, "institution-onem", FIXED_DECEASED, routed())
    finally:
        _deceased_policy(network, router_admin_pb2.DECEASED_POLICY_REFUSE)
    trailers = dict(call.trailing_metadata())
    assert reply.person.insz == FIXED_DECEASED
    assert trailers["cbss-subject-deceased"] == "true"
    assert trailers["cbss-ticket"] == router_ticket(call)
    assert [r.outcome for r in _log_rows(network, trailers["cbss-ticket"])] == ["FORWARDED"]
