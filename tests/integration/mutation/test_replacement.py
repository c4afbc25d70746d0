"""A replaced number: the holders' directory entries move to the new number, at the primary and
in the hub (its members'), and every holder of the old number is notified under the new one."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from registry.seed.population import FIXED_MAN
from runtime.db import Database
from runtime.identifiers import make_insz
from runtime.server import ServiceHost
from tests.integration.inbox.conftest import Mesh
from tests.integration.mutation.conftest import Register, inbox_changes, wait_for

pytestmark = pytest.mark.integration

NEW = make_insz(birth_year=1985, birth_month=7, birth_day=14, serial=997)


def _entries(url: str, insz: str) -> set[tuple[str, int]]:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT institution, sector FROM directory_entry WHERE insz = :i"),
                {"i": insz},
            ).all()
    finally:
        db.dispose()
    return {(i, s) for i, s in rows}


def test_a_replacement_moves_entries_here_and_at_the_hub_and_notifies_under_the_new_number(
    mesh: Mesh, fanout: ServiceHost
) -> None:
    primary_before = _entries(mesh.urls["router"], FIXED_MAN)
    assert {("onem", 18), ("cin", 11)} <= primary_before
    assert _entries(mesh.urls["hub"], FIXED_MAN) == {("mut-100", 11)}
    sequence = Register(mesh).replace(FIXED_MAN, NEW, dt.date.today() - dt.timedelta(days=1))

    def notified(institution: str) -> list:
        return [
            c
            for _, c in inbox_changes(mesh, institution)
            if c.source_sequence == sequence and c.event_type == "person.insz-replaced"
        ]

    wait_for(lambda: bool(notified("onem")) and bool(notified("mut-100")))
    assert len(notified("onem")) == 1 and len(notified("mut-100")) == 1
    change = notified("mut-100")[0]
    assert (change.insz, change.person.after.insz.insz) == (FIXED_MAN, NEW)
    # Entries moved, at the primary and in the hub (the member's).
    assert _entries(mesh.urls["router"], FIXED_MAN) == set()
    assert _entries(mesh.urls["router"], NEW) == primary_before
    assert _entries(mesh.urls["hub"], FIXED_MAN) == set()
    assert _entries(mesh.urls["hub"], NEW) == {("mut-100", 11)}
    # The attestation names the person's current number.
    db = mesh.inbox_db("onem")
    try:
        with db.engine.connect() as conn:
            subjects = conn.execute(
                sa.text("SELECT subject_insz FROM attestation WHERE kind = :k"),
                {"k": "mutation.person.insz-replaced"},
            ).scalars()
            assert list(subjects) == [NEW]
    finally:
        db.dispose()
