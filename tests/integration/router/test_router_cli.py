"""`python -m router.cli` against a real router: onboarding a new agency in a few commands."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from registry.seed.population import FIXED_WOMAN
from router.cli import cli
from tests.integration.router.conftest import REGISTRY, Network

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def run(network: Network):
    def invoke(*args: str, party: str = "admin-ops") -> Result:
        base = ["--target", f"localhost:{network.router.port}", "--pki", str(network.pki_dir)]
        return CliRunner().invoke(cli, [*base, "--as", party, *args], catch_exceptions=False)

    return invoke


def test_new_agency_is_onboarded_when_an_administrator_runs_the_commands(
    run, network: Network
) -> None:
    registered = run("institution", "register", "vlaams-wonen", "--name", "Wonen in Vlaanderen")
    assert registered.exit_code == 0, registered.stderr
    assert "vlaams-wonen" in registered.stdout and "ACTIVE" in registered.stdout
    # An endpoint whose certificate names another institution is not taken for this one.
    impostor = run(
        "service", "register", REGISTRY, "--provider", "vlaams-wonen",
        "--endpoint", f"localhost:{network.holder.port}",
    )  # fmt: skip
    assert impostor.exit_code == 1
    assert impostor.stderr.startswith("UNAVAILABLE HOLDER_UNAVAILABLE")
    service = run(  # the holder is the National Register's: register it as such
        "--json", "service", "register", REGISTRY, "--provider", "nr",
        "--endpoint", f"localhost:{network.holder.port}",
    )  # fmt: skip
    assert service.exit_code == 0, service.stderr
    methods = {m["path"]: m for m in json.loads(service.stdout)["registration"]["methods"]}
    assert methods[f"/{REGISTRY}/GetPerson"]["subject_fields"] == ["insz"]
    granted = run(
        "--json", "grant", "--deliberation", "ISC/26/100", "--requester", "vlaams-wonen",
        "--service", REGISTRY, "--method", "GetPerson", "--legal-context", "housing.check",
        "--no-directory-check", "--from", "2026-01-01",
    )  # fmt: skip
    assert granted.exit_code == 0, granted.stderr
    name = json.loads(granted.stdout)["authorisation"]["name"]
    listed = run("authorisations", "--requester", "vlaams-wonen")
    assert "ISC/26/100" in listed.stdout
    revoked = run("--json", "revoke", name, "--reason", "test over")
    assert json.loads(revoked.stdout)["authorisation"]["state"] == "AUTHORISATION_STATE_REVOKED"
    suspended = run("institution", "suspend", "vlaams-wonen", "--reason", "test over")
    assert "SUSPENDED" in suspended.stdout


def test_institution_keeps_its_directory_entries_when_it_uses_the_cli(run) -> None:
    added = run(
        "--json", "directory", "register", FIXED_WOMAN, "--capacity", "7/101",
        "--from", "2026-01-01", party="institution-famiwal",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    listed = run("--json", "directory", "list", "--insz", FIXED_WOMAN, party="institution-famiwal")
    assert [e["insz"] for e in json.loads(listed.stdout)["entries"]] == [FIXED_WOMAN]


@pytest.mark.parametrize(
    ("args", "party", "expected"),
    [
        (("grant", "--deliberation", "x", "--requester", "onem", "--service", REGISTRY,
          "--legal-context", "x", "--from", "tomorrow"),
         "admin-ops", "INVALID_ARGUMENT INVALID_DATE"),
        (("institution", "list"), "institution-onem", "PERMISSION_DENIED ADMIN_ONLY"),
        (("directory", "register", FIXED_WOMAN, "--capacity", "11/1", "--from", "2026-01-01"),
         "institution-famiwal", "PERMISSION_DENIED SECTOR_NOT_AUTHORISED"),
    ],
)  # fmt: skip
def test_error_is_code_and_reason_on_stderr_when_refused(run, args, party, expected) -> None:
    result = run(*args, party=party)
    assert result.exit_code == 1
    assert result.stderr.startswith(expected)


def test_person_index_is_rebuilt_when_an_administrator_runs_the_command(run) -> None:
    rebuilt = run("--json", "person-index", "rebuild")
    assert rebuilt.exit_code == 0, rebuilt.stderr
    assert int(json.loads(rebuilt.stdout)["numbers"]) > 20  # the seeded register, every state
    refused = run("person-index", "rebuild", party="institution-onem")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("PERMISSION_DENIED ADMIN_ONLY")
