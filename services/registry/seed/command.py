"""`python -m registry seed [--count N] [--seed S]`: load the synthetic population.

One transaction for the whole population, written in batches with Core `insert()` executemany
and followed by ANALYZE: either the database holds all of it, recorded in `seed_run`, or none
of it. Run again with the
same (seed, count) it only reads `seed_run` and exits (well under a second). A database that holds
another population, or persons it did not seed, is left alone (exit status 1): a second
population would reuse the first one's numbers.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

import click

from registry.seed.population import FIXED_PERSONS, GENERATOR_VERSION, SeedPerson, generate
from registry.service.model import AddressPeriod, PersonRecord
from registry.storage import MIGRATIONS
from registry.storage.bulk import BulkWriter, SeedRun
from runtime.db import Database

logger = logging.getLogger(__name__)

DEFAULT_COUNT = 10_000
MAX_COUNT = 1_000_000
DEFAULT_SEED = 1
BATCH = 10_000


class SeedConflict(Exception):
    """The database holds something else than the asked population."""


@dataclass(frozen=True)
class SeedOutcome:
    """What `load` did: `loaded` is False when the population was already there."""

    loaded: bool
    run: SeedRun


def load(
    db: Database,
    *,
    count: int,
    seed: int,
    on_progress: Callable[[int], None] | None = None,
) -> SeedOutcome:
    """Load `count` generated persons (plus the fixed ones) unless already loaded.

    `on_progress(n)` is called after each batch with the number of persons written since the last
    call. Raises SeedConflict when the database holds another population or unseeded persons.
    """
    with db.unit_of_work() as session:
        writer = BulkWriter(session.connection())
        runs = writer.seed_runs()
        for run in runs:
            if (run.seed, run.count, run.generator_version) == (seed, count, GENERATOR_VERSION):
                return SeedOutcome(False, run)
        if runs:
            other = runs[-1]
            raise SeedConflict(
                f"the database holds another synthetic population (seed {other.seed}, "
                f"count {other.count}); seed a fresh database"
            )
        if writer.person_count():
            raise SeedConflict("the database already holds persons; seed only an empty register")
        persons: list[PersonRecord] = []
        addresses: list[tuple[str, AddressPeriod]] = []
        total_persons = total_addresses = pending = 0
        for item in generate(count, seed):
            _add(item, persons, addresses)
            pending += item.record.replaced_by is None
            if len(persons) >= BATCH:
                writer.persons(persons)
                writer.addresses(addresses)
                total_persons += len(persons)
                total_addresses += len(addresses)
                persons.clear()
                addresses.clear()
                if on_progress:
                    on_progress(pending)
                pending = 0
        writer.persons(persons)
        writer.addresses(addresses)
        total_persons += len(persons)
        total_addresses += len(addresses)
        if on_progress and pending:
            on_progress(pending)
        writer.analyze()
        run = SeedRun(
            seed, count, GENERATOR_VERSION, total_persons, total_addresses, dt.datetime.now(dt.UTC)
        )
        writer.record_seed_run(run)
    return SeedOutcome(True, run)


def _add(
    item: SeedPerson, persons: list[PersonRecord], addresses: list[tuple[str, AddressPeriod]]
) -> None:
    persons.append(item.record)
    addresses.extend((item.record.insz, period) for period in item.addresses)


@click.command(help="Load the deterministic synthetic population into the registry's database.")
@click.option(
    "--count",
    type=click.IntRange(0, MAX_COUNT),
    default=DEFAULT_COUNT,
    show_default=True,
    help="Generated persons, besides the fixed persons of the docs and tests.",
)
@click.option(
    "--seed",
    "seed_value",
    type=click.IntRange(0, 2**63 - 1),
    default=DEFAULT_SEED,
    show_default=True,
    help="Random seed: the same seed and count give the same population.",
)
@click.pass_obj
def seed_command(obj: dict[str, str], count: int, seed_value: int) -> None:
    db = Database(obj["database_url"])
    try:
        db.migrate(MIGRATIONS)
        current_fixed = sum(p.record.replaced_by is None for p in FIXED_PERSONS)
        with _progress(count + current_fixed) as advance:
            outcome = load(db, count=count, seed=seed_value, on_progress=advance)
    except SeedConflict as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()
    run = outcome.run
    if outcome.loaded:
        logger.info(
            "seeded %d persons and %d addresses (seed %d, count %d)",
            run.persons,
            run.addresses,
            run.seed,
            run.count,
        )
    else:
        logger.info("already seeded (seed %d, count %d): nothing to do", run.seed, run.count)


class _progress:
    """A rich progress bar on stderr, created only when there is something to load."""

    def __init__(self, total: int) -> None:
        self._total = total
        self._bar = None
        self._task = None

    def __enter__(self) -> Callable[[int], None]:
        return self._advance

    def _advance(self, n: int) -> None:
        if self._bar is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = Progress(
                TextColumn("seeding persons"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
            )
            self._bar.start()
            self._task = self._bar.add_task("seed", total=self._total)
        self._bar.advance(self._task, n)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def run(database_url: str, argv: list[str]) -> int:
    """Entry point from `python -m registry seed …`; returns the exit status."""
    try:
        seed_command.main(
            args=argv,
            prog_name="python -m registry seed",
            obj={"database_url": database_url},
            standalone_mode=False,
        )
    except click.exceptions.Exit as exc:  # --help
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        return 1
    return 0


def export_population(database_url: str, argv: list[str]) -> int:
    """`python -m registry export-population --out FILE`: the seeded population's numbers.

    Writes the INSZs of the living persons with a current number, one per line: what the
    demonstration institutions (the mutualities' `seed --population`) choose their members from,
    without reading the register's database or importing its code.
    """
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m registry export-population")
    parser.add_argument("--out", type=Path, required=True, help="the file to write (replaced)")
    parsed = parser.parse_args(argv)
    db = Database(database_url)
    try:
        with db.unit_of_work(write=False) as session:
            inszs = BulkWriter(session.connection()).living_current_inszs()
    finally:
        db.dispose()
    parsed.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = parsed.out.with_suffix(parsed.out.suffix + ".tmp")
    tmp.write_text("".join(f"{insz}\n" for insz in inszs))
    tmp.replace(parsed.out)
    logger.info("exported %d living persons with a current number", len(inszs))
    return 0
