"""TtpService's servicer: maps the sources' records onto coded messages, which never carry the
INSZ (each coded message is built field by field, the person's code in place of the INSZ)."""

from __future__ import annotations

from typing import Any

from cbss.ttp.v1 import ttp_pb2, ttp_pb2_grpc
from runtime.identity import current_caller
from ttp.service.extractions import CodedBatch, Receipt, Source, TtpExtractions

_SOURCES = {
    ttp_pb2.SOURCE_DIMONA_PERIODS: Source.DIMONA_PERIODS,
    ttp_pb2.SOURCE_DMFA_WORKER_QUARTERS: Source.DMFA_WORKER_QUARTERS,
    ttp_pb2.SOURCE_REGISTRY_DEMOGRAPHICS: Source.REGISTRY_DEMOGRAPHICS,
}


def _period(code: str, p: Any) -> ttp_pb2.CodedPeriod:
    coded = ttp_pb2.CodedPeriod(
        person=code,
        employer=p.employer,
        worker_type=p.worker_type,
        joint_committee=p.joint_committee,
        start_date=p.start_date,
    )
    if p.HasField("end_date"):
        coded.end_date.CopyFrom(p.end_date)
    return coded


def _worker(code: str, w: Any) -> ttp_pb2.CodedWorkerQuarter:
    return ttp_pb2.CodedWorkerQuarter(person=code, employer=w.employer, records=w.records)


def _person(code: str, p: Any) -> ttp_pb2.CodedPerson:
    coded = ttp_pb2.CodedPerson(
        person=code, sex=p.sex, postcode=p.postcode, country_code=p.country_code
    )
    if p.HasField("age"):
        coded.age = p.age
    return coded


def message(item: CodedBatch | Receipt) -> ttp_pb2.CodeExtractionResponse:
    if isinstance(item, Receipt):
        return ttp_pb2.CodeExtractionResponse(
            receipt=ttp_pb2.ExtractionReceipt(
                router_ticket=item.router_ticket, records=item.records, key_id=item.key_id
            )
        )
    if item.source is Source.DIMONA_PERIODS:
        return ttp_pb2.CodeExtractionResponse(periods=[_period(c, r) for c, r in item.records])
    if item.source is Source.DMFA_WORKER_QUARTERS:
        return ttp_pb2.CodeExtractionResponse(
            worker_quarters=[_worker(c, r) for c, r in item.records]
        )
    return ttp_pb2.CodeExtractionResponse(persons=[_person(c, r) for c, r in item.records])


class TtpServicer(ttp_pb2_grpc.TtpServiceServicer):
    def __init__(self, extractions: TtpExtractions) -> None:
        self._extractions = extractions

    def CodeExtraction(self, request, context):  # noqa: N802, ANN001, ANN201
        items = self._extractions.code_extraction(
            current_caller(),
            request.project,
            _SOURCES.get(request.source),
            request.year,
            request.quarter,
        )
        for item in items:
            yield message(item)
