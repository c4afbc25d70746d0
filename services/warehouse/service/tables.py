"""The published tables of a quarter: one finest table and five margins of it, over the persons
in work on the quarter's last day; each cell the number of persons and their pay in the quarter.

Chosen so that the disclosure control stays exact and fast: the finest table carries every
dimension the issue asks for (joint committee × worker class × age band × sex × region, some
thousands of cells), the margins are the small tables people read (a few dozen cells), and every
table is a margin of the finest, so the audit's linear system has one unknown per suppressed
finest cell and one equation per published margin cell (suppression.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from warehouse.service.positions import PersonPosition
from warehouse.service.suppression import TableSpec

DIMENSIONS = ("joint_committee", "worker_class", "age_band", "sex", "region")
FINEST = TableSpec(
    "jc_class_age_sex_region",
    "Persons in work and their pay by joint committee, worker class, age band, sex and region",
    DIMENSIONS,
)
PUBLISHED = (
    FINEST,
    TableSpec(
        "joint_committee", "Persons in work and their pay by joint committee", ("joint_committee",)
    ),
    TableSpec(
        "class_sex",
        "Persons in work and their pay by worker class and sex",
        ("worker_class", "sex"),
    ),
    TableSpec("age_band", "Persons in work and their pay by age band", ("age_band",)),
    TableSpec("region", "Persons in work and their pay by region of residence", ("region",)),
    TableSpec("total", "Persons in work and their pay", ()),
)
BY_ID = {spec.id: spec for spec in PUBLISHED}


def units(positions: Iterable[PersonPosition]) -> list[tuple[tuple[str, ...], int]]:
    """One unit per person in work: the finest table's categories and the quarter's pay."""
    return [
        ((p.joint_committee, p.worker_class, p.age_band, p.sex, p.region), p.pay)
        for p in positions
        if p.in_work
    ]
