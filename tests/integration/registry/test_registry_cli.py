"""`python -m registry.cli` against a real registry: output, JSON, errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from registry.cli import cli
from registry.seed.population import FIXED_BIS, FIXED_MAN
from runtime.server import ServiceHost

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def run(registry: ServiceHost, pki_dir: Path):
    def invoke(*args: str, party: str = "institution-cbss") -> Result:
        # The registry stands in for the router too: a consultation sent by a party that is not
        # a router then shows the registry's refusal of direct access.
        here = f"localhost:{registry.port}"
        base = ["--target", here, "--router", here, "--pki", str(pki_dir), "--as", party]
        return CliRunner().invoke(cli, [*base, *args], catch_exceptions=False)

    return invoke


def test_person_is_shown_when_insz_is_typed_formatted(run) -> None:
    result = run("get", "85.07.14-123.30", "--mask", "identity,address", party="router")
    assert result.exit_code == 0, result.stderr
    assert "Peeters" in result.stdout and "Meir" in result.stdout
    assert "Antwerpen" in result.stdout


def test_json_is_printed_when_asked(run) -> None:
    result = run("--json", "get", FIXED_MAN, "--mask", "status", party="router")
    data = json.loads(result.stdout)
    assert data["person"]["insz"] == FIXED_MAN
    assert set(data["person"]) == {"name", "insz", "status"}


def test_search_lists_persons_when_name_is_typed_without_accents(run) -> None:
    result = run("--json", "search", "celik", party="router")
    assert FIXED_BIS in {p["insz"] for p in json.loads(result.stdout)["persons"]}


def test_error_is_code_reason_message_on_stderr_when_server_refuses(run) -> None:
    result = run("get", FIXED_MAN)  # the CBSS is not a router
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("PERMISSION_DENIED DIRECT_ACCESS_FORBIDDEN: ")


def test_error_is_printed_when_insz_argument_is_invalid(run) -> None:
    result = run("get", "85.07.14-123.31", party="router")
    assert result.exit_code == 1
    assert result.stderr.startswith("INVALID_ARGUMENT INSZ_CHECK_DIGITS: ")


def test_verdict_is_shown_when_validating(run) -> None:
    assert "valid BIS number" in run("validate", "85.49.30-001.63").stdout
    assert "INSZ_CHECK_DIGITS" in run("validate", "85071412331").stdout


def test_changes_and_events_are_shown_when_made_through_the_cli(run) -> None:
    registered = run(
        "--json", "register-bis", "--last", "Noël", "--first", "Émile", "--sex", "unknown",
        "--born", "1971-05", "--nationality", "FR", "--request-id", "cli-1",
    )  # fmt: skip
    assert registered.exit_code == 0, registered.stderr
    insz = json.loads(registered.stdout)["insz"]
    moved = run(
        "--json", "change-address", insz, "--street", "Rue Haute", "--number", "5",
        "--postcode", "1000", "--municipality", "Bruxelles", "--effective", "2025-06-15",
    )  # fmt: skip
    assert moved.exit_code == 0, moved.stderr
    sequence = int(json.loads(moved.stdout)["event"]["sequence"])
    events = json.loads(run("--json", "events", "--after", str(sequence - 2)).stdout)
    assert [e["kind"] for e in events["events"]] == [
        "MUTATION_KIND_BIS_REGISTERED",
        "MUTATION_KIND_ADDRESS_CHANGED",
    ]
    refused = run(
        "change-address", insz, "--street", "X", "--number", "1", "--postcode", "1000",
        "--municipality", "Bruxelles", "--effective", "2025-06-15", party="registry",
    )  # fmt: skip
    assert refused.exit_code == 1 and refused.stderr.startswith("PERMISSION_DENIED NOT_AUTHORISED")
