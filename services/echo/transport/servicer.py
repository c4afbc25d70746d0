"""EchoService servicer: proto <-> domain mapping only; rules live in echo.service."""

from __future__ import annotations

import time

import grpc

from cbss.echo.v1 import echo_pb2, echo_pb2_grpc
from echo.service.notes import Note, NoteService
from runtime.errors import FieldViolation, InvalidArgument
from runtime.identity import current_caller

MAX_PAYLOAD = 64 * 1024
MAX_DELAY_MS = 10_000


def _to_proto(note: Note) -> echo_pb2.Note:
    return echo_pb2.Note(name=note.name, text=note.text, creator=note.creator)


class EchoServicer(echo_pb2_grpc.EchoServiceServicer):
    """Maps EchoService RPCs onto the note service."""

    def __init__(self, notes: NoteService) -> None:
        self._notes = notes

    def Echo(
        self, request: echo_pb2.EchoRequest, context: grpc.ServicerContext
    ) -> echo_pb2.EchoResponse:
        if len(request.payload) > MAX_PAYLOAD:
            raise InvalidArgument.for_fields(
                [FieldViolation("payload", "at most 64 KiB", "PAYLOAD_TOO_LARGE")]
            )
        if request.delay_ms > MAX_DELAY_MS:
            raise InvalidArgument.for_fields(
                [FieldViolation("delay_ms", "at most 10000", "DELAY_TOO_LONG")]
            )
        if request.delay_ms:
            time.sleep(request.delay_ms / 1000)
        return echo_pb2.EchoResponse(payload=request.payload, caller=current_caller().uri)

    def CreateNote(
        self, request: echo_pb2.CreateNoteRequest, context: grpc.ServicerContext
    ) -> echo_pb2.CreateNoteResponse:
        note = self._notes.create(current_caller(), request.request_id, request.note.text)
        return echo_pb2.CreateNoteResponse(note=_to_proto(note))

    def GetNote(
        self, request: echo_pb2.GetNoteRequest, context: grpc.ServicerContext
    ) -> echo_pb2.GetNoteResponse:
        return echo_pb2.GetNoteResponse(note=_to_proto(self._notes.get(request.name)))
