"""`python -m demo` (`make demo`): one worker's story, told against the running mesh.

Jan (85071412330, a member of the mutuality mut-100 behind the hub `cin`, known to ONEM) is
hired by a retailer; the retailer declares the quarter; Jan falls ill — his mutuality asks the
employer for the declaration, the employer files ZIMA 001 pre-filled from what DIMONA knows,
the attestation reaches his mutuality — then he moves house, and ONEM and his mutuality learn
it without asking. At the end: what each institution received, and what the message log holds
about Jan.

Every step is a command of the project's CLIs, printed before it runs, so that each can be
replayed by hand. Employers, institutions and operators go through the edge (Envoy); the
mutuality through its own hub; the National Register records the move at home; each
institution reads its own inbox. The references are fixed, so a second run of the demo is
answered the same (idempotency keys), not doubled.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from runtime.supervise import port_base, ports

WORKER = "85071412330"
EMPLOYER = "000100006"
PY = sys.executable
#: The mutuality's request id (a UUID): fixed, so that a second run is the same request.
SICK_REQUEST = str(uuid.uuid5(uuid.NAMESPACE_URL, "carrefour:demo:sick"))
WIDTH = 100


class StoryError(RuntimeError):
    pass


def echo(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def say(text: str) -> None:
    """The narration, wrapped."""
    echo()
    for paragraph in text.strip().split("\n\n"):
        words, line = paragraph.split(), ""
        for word in words:
            if len(line) + len(word) + 1 > WIDTH:
                echo(line)
                line = word
            else:
                line = f"{line} {word}".strip()
        echo(line)


def run(*command: str, ok: tuple[int, ...] = (0,), show: bool = True) -> str:
    """Print the command, run it, print its output indented (unless `show` is false)."""
    shown = " ".join(shlex.quote(c) for c in command).replace(PY, "python")
    echo(f"\n  $ {shown}")
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    if show or done.returncode not in ok:
        for line in (done.stdout + done.stderr).rstrip().splitlines():
            echo(f"    {line}")
    if done.returncode not in ok:
        raise StoryError(f"the command failed (exit {done.returncode})")
    return done.stdout


def table(output: str, keep: str, drop: str = "") -> None:
    """A rich table's frame and header, and only its rows containing `keep` (all when empty)
    and not `drop`."""
    for line in output.rstrip().splitlines():
        row = line.startswith("│")
        if row and ((keep and keep not in line) or (drop and drop in line)):
            continue
        echo(f"    {line}")


def wait_for(what: str, check: Callable[[], object], seconds: float = 60) -> object:
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise StoryError(f"{what}: not there after {seconds:.0f} s")
        time.sleep(1)


def quiet(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    return done.stdout


def main() -> int:
    port = ports(port_base())
    edge = f"localhost:{port['edge']}"
    pki = os.environ.get("PKI_DIR", "var/pki")
    dimona = [PY, "-m", "dimona.cli", "--target", edge, "--router", edge, "--pki", pki]
    dmfa = [PY, "-m", "dmfa.cli", "--target", edge, "--dimona", edge, "--router", edge]
    dmfa += ["--pki", pki]
    drs = [PY, "-m", "drs.cli", "--target", edge, "--router", edge, "--pki", pki]
    router = [PY, "-m", "router.cli", "--target", edge, "--pki", pki]
    inbox = [PY, "-m", "inbox.cli"]
    today = dt.date.today()
    hired, risk, last = (today - dt.timedelta(days=n) for n in (6, 2, 3))

    try:
        if not quiet(*router, "institution", "list"):
            raise StoryError(f"no mesh answers at the edge ({edge}): run `make run` first")

        say(f"""
== 1. Hiring ==

Jan ({WORKER}) starts at a retailer (ONSS number {EMPLOYER}) on {hired:%A %d %B}. The
employer declares it to DIMONA through the edge: DIMONA checks Jan's number with the National
Register through the router, stores the period and registers Jan in the reference directory
under the ONSS's employment capacity. The declaration comes {(today - hired).days} days late,
so DIMONA accepts it and marks it late.""")
        run(*dimona, "--as", f"employer-{EMPLOYER}", "--reference", "demo-hire", "in", WORKER,
            "--type", "OTH", "--jc", "202", "--start", hired.isoformat())  # fmt: skip
        say("""ONEM, which follows Jan, reads his periods with every employer — through the
router, under its legal context, because it holds Jan in its part of the directory:""")
        run(*dimona, "--as", "institution-onem", "--legal-context", "unemployment.control",
            "worker-periods", WORKER)  # fmt: skip

        say("""
== 2. The quarter ==

The retailer drafts this quarter's DmfA from its own Dimona periods (Jan's included), then
submits it; the DmfA checks every occupation against DIMONA and every worker against the
register, through the router, and computes the contributions.""")
        with tempfile.TemporaryDirectory() as folder:
            draft = Path(folder) / "quarter.json"
            draft.write_text(
                run(*dmfa, "--as", f"employer-{EMPLOYER}", "draft", "current", show=False)
            )
            workers = draft.read_text().count('"insz"')
            echo(f"    (the draft, a JSON file the employer may edit: {workers} workers)")
            run(*dmfa, "--as", f"employer-{EMPLOYER}", "submit", str(draft),
                "--reference", "demo-quarter", ok=(0, 3))  # fmt: skip

        say(f"""
== 3. Jan falls ill ==

On {risk:%A %d %B} Jan is unfit for work. His mutuality, mut-100, behind the mutualities' hub,
asks the employer for the declaration it needs (ZIMA 001): the hub checks that mut-100 holds
Jan, the primary router that the relay comes from mut-100's hub, and the request lands in the
employer's to-do list.""")
        asked = run(PY, "-m", "drs.cli", "--as", "institution-mut-100", "--pki", pki,
                    "--router", f"localhost:{port['hub-cin']}", "--employer", EMPLOYER,
                    "request", WORKER, "--router-name", "cin", "--risk-date", risk.isoformat(),
                    "--request-id", SICK_REQUEST)  # fmt: skip
        task = re.search(rf"employers/{EMPLOYER}/tasks/[0-9a-f-]+", asked)
        if task is None:
            raise StoryError("the request did not answer with a task")
        say("""The employer opens the pre-filled declaration: identity, the Dimona period on the
risk date, the last closed quarters — gathered through the router on that date. It adds only
what it alone knows: the last day worked.""")
        run(*drs, "--as", f"employer-{EMPLOYER}", "prefill", WORKER, "--scenario", "incapacity",
            "--risk-date", risk.isoformat())  # fmt: skip
        run(*drs, "--as", f"employer-{EMPLOYER}", "submit", "incapacity", WORKER,
            "--risk-date", risk.isoformat(), "--last-day-worked", last.isoformat(),
            "--task", task.group(0), "--reference", "demo-sick")  # fmt: skip
        say("""The attestation travels through the shared outbox and the router, which asks the
directory which mutuality holds Jan, to mut-100's inbox behind the hub:""")
        mut_inbox = [*inbox, "list", "--as", "institution-mut-100", "--pki", pki,
                     "--target", f"localhost:{port['inbox-mut-100']}"]  # fmt: skip
        wait_for(
            "the ZIMA 001 in mut-100's inbox",
            lambda: WORKER in quiet(*mut_inbox, "--kind", "sickness.zima-001"),
        )
        run(*mut_inbox, "--kind", "sickness.zima-001")

        say("""
== 4. Jan moves ==

The National Register records Jan's new address. Nobody asks anybody: the mutation service
reads the register's events, finds in the reference directory who holds Jan today, and
notifies each — ONEM, and mut-100 through its hub.""")
        run(PY, "-m", "registry.cli", "--target", f"localhost:{port['registry']}", "--pki", pki,
            "--as", "institution-nr", "change-address", WORKER, "--street", "Rue Neuve",
            "--number", "12", "--postcode", "1000", "--municipality", "Bruxelles",
            "--request-id", "demo-move")  # fmt: skip
        onem_inbox = [*inbox, "list", "--as", "institution-onem", "--pki", pki,
                      "--target", f"localhost:{port['inbox-onem']}"]  # fmt: skip
        kind = "mutation.person.address-changed"
        for name, command in (("ONEM", onem_inbox), ("mut-100", mut_inbox)):
            wait_for(
                f"the address change in {name}'s inbox",
                lambda c=command: WORKER in quiet(*c, "--kind", kind),
            )

        say("""
== 5. What each institution received ==""")
        for name, command in (("ONEM", onem_inbox), ("mut-100", mut_inbox)):
            say(f"What {name}'s inbox holds about Jan:")
            table(run(*command, "--all", show=False), WORKER)
        say("""And the message log: every crossing of Jan's data, who asked, under which legal
context, for which holder, with what outcome (the operators' view; this question is itself
logged):""")
        table(run(*router, "messages", "--subject", WORKER, show=False), "", "GetAttestationStatus")
        echo("    (the outboxes' status checks of their deliveries left out)")
        say("The end. Every step above can be replayed by hand with the commands shown.")
        return 0
    except StoryError as exc:
        sys.stderr.write(f"\ndemo stopped: {exc}\n")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
