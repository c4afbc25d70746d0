"""The warehouse's calls to the trusted third party (`TtpService.CodeExtraction`), read whole.

A failure delivers nothing: the TTP unreachable (UNAVAILABLE, DEADLINE_EXCEEDED) is UNAVAILABLE
`TTP_UNAVAILABLE`; any other failure — the TTP's, or the source's it relays — FAILED_PRECONDITION
`EXTRACTION_FAILED` with the source, the code and the TTP's reason (and the router's, when the TTP
names it) in the metadata; a stream without its receipt, or whose count disagrees with it, too.
"""

from __future__ import annotations

import datetime as dt

import grpc

from cbss.common.v1 import types_pb2
from cbss.dimona.v1 import dimona_pb2
from cbss.ttp.v1 import ttp_pb2, ttp_pb2_grpc
from runtime.client import failure
from runtime.errors import FailedPrecondition, Unavailable
from warehouse.service.model import (
    CodedPeriod,
    CodedPerson,
    CodedWorkerRecord,
    Extraction,
    Quarter,
    Source,
)
from warehouse.service.ports import CodedRecord

_SOURCES = {
    Source.REGISTRY_DEMOGRAPHICS: ttp_pb2.SOURCE_REGISTRY_DEMOGRAPHICS,
    Source.DIMONA_PERIODS: ttp_pb2.SOURCE_DIMONA_PERIODS,
    Source.DMFA_WORKER_QUARTERS: ttp_pb2.SOURCE_DMFA_WORKER_QUARTERS,
}
_UNREACHABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def _date(value) -> dt.date:  # noqa: ANN001
    return dt.date(value.year, value.month, value.day)


def _sex(value: int) -> str:
    name = types_pb2.Sex.Name(value) if value in types_pb2.Sex.values() else "SEX_UNKNOWN"
    return "UNKNOWN" if name == "SEX_UNSPECIFIED" else name.removeprefix("SEX_")


def _worker_type(value: int) -> str:
    return dimona_pb2.WorkerType.Name(value).removeprefix("WORKER_TYPE_")


def records_of(message: ttp_pb2.CodeExtractionResponse) -> list[CodedRecord]:
    found: list[CodedRecord] = [
        CodedPerson(
            p.person, p.age if p.HasField("age") else None, _sex(p.sex), p.postcode, p.country_code
        )
        for p in message.persons
    ]
    found += [
        CodedPeriod(
            p.person,
            p.employer,
            _worker_type(p.worker_type),
            p.joint_committee,
            _date(p.start_date),
            _date(p.end_date) if p.HasField("end_date") else None,
        )
        for p in message.periods
    ]
    for w in message.worker_quarters:
        for r in w.records:
            found.append(
                CodedWorkerRecord(
                    w.person,
                    w.employer,
                    r.worker_code,
                    r.days,
                    r.hours,
                    sum(m.amount for m in r.remunerations),
                )
            )
    return found


class TtpClient:
    def __init__(self, channel: grpc.Channel, timeout: float) -> None:
        self._stub = ttp_pb2_grpc.TtpServiceStub(channel)
        self._timeout = timeout

    def extract(
        self, project: str, source: Source, quarter: Quarter
    ) -> tuple[list[CodedRecord], Extraction]:
        request = ttp_pb2.CodeExtractionRequest(
            project=project, source=_SOURCES[source], year=quarter.year, quarter=quarter.quarter
        )
        records: list[CodedRecord] = []
        units = 0
        receipt = None
        try:
            for message in self._stub.CodeExtraction(request, timeout=self._timeout):
                if message.HasField("receipt"):
                    receipt = message.receipt
                    continue
                units += len(message.persons) + len(message.periods) + len(message.worker_quarters)
                records += records_of(message)
        except grpc.RpcError as exc:
            info = failure(exc)
            metadata = {"source": source.value, "code": info.code.name}
            if info.reason:
                metadata["ttp_reason"] = info.reason
            for key in ("reason", "router_ticket"):
                if key in info.metadata:
                    metadata[f"source_{key}"] = info.metadata[key]
            if info.code in _UNREACHABLE:
                raise Unavailable(
                    "TTP_UNAVAILABLE", "the trusted third party did not answer", metadata=metadata
                ) from None
            raise FailedPrecondition(
                "EXTRACTION_FAILED", "a source's coded extraction failed", metadata=metadata
            ) from None
        if receipt is None or receipt.records != units:
            raise FailedPrecondition(
                "EXTRACTION_FAILED",
                "the coded extraction ended without its receipt",
                metadata={"source": source.value, "code": "INCOMPLETE"},
            )
        return records, Extraction(source, receipt.records, receipt.router_ticket, receipt.key_id)
