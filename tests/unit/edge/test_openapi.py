"""The OpenAPI document generated from the descriptor set (`make proto` writes gen/openapi.json)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2
from openapi_spec_validator import validate

from edge.openapi import DESCRIPTORS, build
from edge.routes import edge_routes, portal_routes


@pytest.fixture(scope="module")
def document() -> dict:
    fds = descriptor_pb2.FileDescriptorSet.FromString(Path(DESCRIPTORS).read_bytes())
    return build(fds)


def _operations(document: dict) -> dict[str, tuple[str, str, dict]]:
    return {
        op["x-grpc-method"]: (path, verb, op)
        for path, item in document["paths"].items()
        for verb, op in item.items()
    }


def test_document_is_valid_openapi_3_1(document: dict) -> None:
    validate(document)
    assert document["openapi"] == "3.1.0"


def test_every_rest_method_the_edge_routes_has_one_operation(document: dict) -> None:
    operations = _operations(document)
    http = {r.path for r in [*edge_routes(), *portal_routes()] if r.http}
    assert set(operations) == http
    assert len({op["operationId"] for _, _, op in operations.values()}) == len(operations)


def test_security_says_which_listener_serves_each_operation(document: dict) -> None:
    operations = _operations(document)
    _, _, mine = operations["/cbss.router.v1.CitizenService/ListMyConsultations"]
    assert mine["security"] == [{"portalToken": []}]
    _, _, person = operations["/cbss.registry.v1.RegistryService/GetPerson"]
    assert {next(iter(s)) for s in person["security"]} == {"portalToken", "clientCertificate"}


def test_path_templates_become_one_parameter_per_segment(document: dict) -> None:
    path, verb, op = _operations(document)["/cbss.dimona.v1.DimonaService/GetPeriod"]
    assert (path, verb) == ("/dimona/v1/employers/{employer}/periods/{period}", "get")
    assert [p["name"] for p in op["parameters"] if p["in"] == "path"] == ["employer", "period"]
    for path in document["paths"]:
        for name in re.findall(r"\{([^}]*)\}", path):
            assert "/" not in name and "=" not in name


def test_body_and_query_leave_out_what_the_path_binds(document: dict) -> None:
    operations = _operations(document)
    _, verb, submit = operations["/cbss.dimona.v1.DimonaService/SubmitDeclaration"]
    assert verb == "post"
    body = submit["requestBody"]["content"]["application/json"]["schema"]
    assert "parent" not in body["properties"] and "declaration_reference" in body["properties"]
    _, _, get_person = operations["/cbss.registry.v1.RegistryService/GetPerson"]
    query = {p["name"] for p in get_person["parameters"] if p["in"] == "query"}
    assert "insz" not in query
    assert {"read_mask", "reference_date.year", "reference_date.month"} <= query


def test_schemas_follow_the_proto3_json_mapping(document: dict) -> None:
    schemas = document["components"]["schemas"]
    declaration = schemas["cbss.drs.v1.Declaration"]["properties"]
    assert declaration["scenario"]["$ref"] == "#/components/schemas/cbss.drs.v1.Scenario"
    assert schemas["cbss.drs.v1.Scenario"]["enum"][0] == "SCENARIO_UNSPECIFIED"
    assert declaration["submit_time"] == {
        "type": "string",
        "format": "date-time",
        "description": declaration["submit_time"]["description"],
    }
    # Descriptions come from the contracts' comments.
    assert "INSZ" in declaration["insz"]["description"]
