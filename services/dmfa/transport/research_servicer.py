"""DmfaResearchService's servicer: proto <-> domain mapping only (dmfa.service.research)."""

from __future__ import annotations

from cbss.dmfa.v1 import dmfa_pb2, research_pb2, research_pb2_grpc
from dmfa.service.research import DmfaResearch, ResearchWorkerQuarter
from runtime.identity import current_consultation


def research_worker(w: ResearchWorkerQuarter) -> research_pb2.ResearchWorkerQuarter:
    return research_pb2.ResearchWorkerQuarter(
        insz=w.insz,
        employer=w.employer,
        records=[
            dmfa_pb2.WorkerCodeQuarter(
                worker_code=r.worker_code,
                days=r.days,
                hours=r.hours,
                remunerations=[
                    dmfa_pb2.RemunerationTotal(remuneration_code=m.code, amount=m.amount)
                    for m in r.remunerations
                ],
            )
            for r in w.records
        ],
    )


class DmfaResearchServicer(research_pb2_grpc.DmfaResearchServiceServicer):
    """Answered only to a router forwarding the TTP (the runtime and the rules check it)."""

    def __init__(self, research: DmfaResearch) -> None:
        self._research = research

    def ExtractQuarterWorkers(self, request, context):  # noqa: N802, ANN001, ANN201
        pages = self._research.extract_quarter_workers(
            current_consultation(), request.year, request.quarter
        )
        for page in pages:
            yield research_pb2.ExtractQuarterWorkersResponse(
                workers=[research_worker(w) for w in page]
            )
