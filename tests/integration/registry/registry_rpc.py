"""Helpers of the registry's integration tests: routing metadata, calls, row counts."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import field_mask_pb2
from google.type import date_pb2

from cbss.registry.v1 import registry_pb2, registry_pb2_grpc
from runtime.client import RpcFailure, failure

NOW = dt.datetime(2025, 6, 15, 10, 0, tzinfo=dt.UTC)
SEED_COUNT = 300
SEED = 7

Stub = registry_pb2_grpc.RegistryServiceStub


def routing(requester: str = "institution/onem") -> list[tuple[str, str]]:
    """The metadata a router sends with a consultation it forwards."""
    return [
        ("cbss-requester", f"spiffe://carrefour.local/{requester}"),
        ("cbss-legal-context", "registry.tests"),
        ("cbss-ticket", str(uuid.uuid4())),
        ("cbss-capacity", "none"),
    ]


class Rows:
    """Row counts of the registry's tables, read directly from its database."""

    TABLES = ("person", "address", "mutation_event", "idempotency_key")

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {
                t: conn.execute(sa.select(sa.func.count()).select_from(sa.table(t))).scalar_one()
                for t in self.TABLES
            }

    def scalar(self, sql: str, **params: object) -> object:
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()

    def current_numbers(self, prefix: str) -> set[str]:
        """Current numbers whose normalised last name starts with `prefix` (plain SQL)."""
        with self.engine.connect() as conn:
            return set(
                conn.execute(
                    sa.text(
                        "SELECT insz FROM person WHERE replaced_by IS NULL"
                        " AND last_name_norm LIKE :pattern"
                    ),
                    {"pattern": prefix + "%"},
                ).scalars()
            )


def rpc_failure(call: Callable[[], object]) -> RpcFailure:
    """The failure of a call that must fail."""
    with pytest.raises(grpc.RpcError) as err:
        call()
    return failure(err.value)


def get_person(
    stub: Callable[[str], Stub], insz: str, *paths: str, on: date_pb2.Date | None = None
) -> registry_pb2.Person:
    """GetPerson as the router forwards it."""
    request = registry_pb2.GetPersonRequest(
        insz=insz, read_mask=field_mask_pb2.FieldMask(paths=list(paths))
    )
    if on is not None:
        request.reference_date.CopyFrom(on)
    return stub("router").GetPerson(request, metadata=routing(), timeout=10).person


def search(stub: Callable[[str], Stub], **fields: object) -> registry_pb2.SearchPersonsResponse:
    """SearchPersons as the router forwards it."""
    request = registry_pb2.SearchPersonsRequest(**fields)  # type: ignore[arg-type]
    return stub("router").SearchPersons(request, metadata=routing(), timeout=10)


def day(year: int, month: int, dd: int) -> date_pb2.Date:
    return date_pb2.Date(year=year, month=month, day=dd)
