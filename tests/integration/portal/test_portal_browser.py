"""The portal end to end in a real headless Chromium (Debian's, driven by Playwright; never a
downloaded browser), against the whole mesh as `make run` starts it with the edge's browser
listener in front (tests.support.portal).

- An employer's declarant signs in (keyboard only), files a Dimona IN and sees it accepted,
  then finds the period in the list.
- A citizen sees the consultation an institution has just made (ONEM's GetPerson through the
  router, with its legal context) appear in "who consulted my data", with the router's ticket.
- A citizen cannot see another person's data: a direct fetch with their token for another INSZ
  is refused (NOT_OWN_DATA), and a token rewritten to name another person is refused by the
  edge; the page says so in plain language and shows nothing of the other person.
- A reader sees the forms disabled, and the services refuse a declaration anyway
  (READ_ONLY_ROLE), explained on the page.
- The pages switch language (the `lang` attribute follows) and fit a 360 px wide screen.

Screenshots are kept in var/test-artifacts/portal/ (two of them are the README's, copied by hand
to docs/screenshots/). Chromium missing is a failure with the way to install it, never a skip.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.portal import Portal, edge_spki_pin

# make_run: `make run`'s mesh is always on SQLite; CI's PostgreSQL pass leaves it out.
pytestmark = [pytest.mark.integration, pytest.mark.make_run]

REPO = Path(__file__).resolve().parents[3]
ARTIFACTS = REPO / "var" / "test-artifacts" / "portal"
CHROMIUM = Path("/usr/bin/chromium")
JAN, MARIE, THOMAS, LOTTE = "85071412330", "03020100274", "90052104586", "06070500252"
RETAIL = "000100006"
TIMEOUT = 30_000  # ms: a first call through the mesh may wait on a cold service


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Debian's Chromium, checked before the mesh starts: missing is a failure, never a skip."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the portal's browser tests need Debian's Chromium "
            "(`make browser`, or `apt-get install chromium`); Playwright never downloads one"
        )
    return CHROMIUM


@pytest.fixture(scope="module")
def portal(chromium: Path, make_run_portal: Portal) -> Portal:
    """The whole mesh (tests/integration/conftest.py), once Chromium is known to be there."""
    return make_run_portal


@pytest.fixture(scope="module")
def browser(chromium: Path, portal: Portal) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(chromium),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                # Trust exactly the edge's key (the dev CA is not in the browser's store).
                f"--ignore-certificate-errors-spki-list={edge_spki_pin(portal.pki_dir)}",
            ],
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest):  # noqa: ANN001, ANN201 - Playwright types
    context = browser.new_context(locale="en-GB", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert errors == [], f"JavaScript errors in {request.node.name}: {errors}"


def shot(page, name: str) -> Path:  # noqa: ANN001
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    return path


def sign_in(page, portal: Portal, sub: str, employer: str | None = None) -> None:  # noqa: ANN001
    page.goto(portal.url)
    selector = (
        f'button[data-sub="{sub}"][data-employer="{employer}"]'
        if employer
        else f'button[data-sub="{sub}"][data-as="citizen"]'
    )
    page.click(selector)
    page.wait_for_url("**/employer.html" if employer else "**/citizen.html")


def tab_to(page, selector: str, limit: int = 40) -> None:  # noqa: ANN001
    """Press Tab until the element matching `selector` has the focus (keyboard only)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never got the focus by Tab")


def _onem_consults(portal: Portal, insz: str) -> str:
    """ONEM reads the person's identity through the router; returns the router's ticket."""
    from google.protobuf import field_mask_pb2

    from cbss.registry.v1 import registry_pb2, registry_pb2_grpc
    from runtime.client import party_tls, secure_channel
    from runtime.identity import LEGAL_CONTEXT_HEADER, TICKET_HEADER

    files = party_tls(portal.pki_dir, "institution-onem")
    with secure_channel(f"localhost:{portal.mesh.ports['router']}", files) as channel:
        _, call = registry_pb2_grpc.RegistryServiceStub(channel).GetPerson.with_call(
            registry_pb2.GetPersonRequest(
                insz=insz, read_mask=field_mask_pb2.FieldMask(paths=["identity"])
            ),
            metadata=[(LEGAL_CONTEXT_HEADER, "unemployment.control")],
            timeout=15,
        )
    metadata = dict(call.initial_metadata()) | dict(call.trailing_metadata())
    return metadata[TICKET_HEADER]


def _fetch(page, method: str, path: str, body: dict | None = None) -> dict:  # noqa: ANN001
    """A fetch from the page with the signed-in person's own token."""
    return page.evaluate(
        """async ([method, path, body]) => {
            const headers = {Authorization: `Bearer ${sessionStorage.getItem("carrefour.token")}`};
            if (body) headers["Content-Type"] = "application/json";
            const init = {method, headers, body: body ? JSON.stringify(body) : undefined};
            const r = await fetch(path, init);
            return {status: r.status, text: await r.text()};
        }""",
        [method, path, body],
    )


def _reason(text: str) -> str:
    body = json.loads(text)
    return next(d["reason"] for d in body.get("details", []) if "reason" in d)


# -- the employer ------------------------------------------------------------------------------


def test_an_employer_files_a_dimona_in_and_sees_it_accepted(page, portal: Portal) -> None:  # noqa: ANN001
    page.goto(portal.url)
    page.wait_for_selector("#people li")
    shot(page, "sign-in")
    # Keyboard only: Tab to Marie's mandate for the retailer, Enter.
    tab_to(page, f'button[data-sub="{MARIE}"][data-employer="{RETAIL}"]')
    page.keyboard.press("Enter")
    page.wait_for_url("**/employer.html")
    # The frame names who signed in once the page's language is loaded (asynchronously).
    page.wait_for_function("() => document.getElementById('who').textContent.trim() !== ''")
    assert "Marie Dubois" in page.inner_text("#who")
    assert "declarant" in page.inner_text("#who")
    assert page.is_hidden("#reader-note")

    start = dt.date.today() + dt.timedelta(days=7)
    tab_to(page, "#in-insz")
    page.keyboard.type("06.07.05-002.52")  # formatted as on the eID: the page keeps the digits
    page.select_option("#in-type", "WORKER_TYPE_OTH")
    page.fill("#in-jc", "202")
    page.fill("#in-start", start.isoformat())
    page.focus("#dimona-submit")
    page.keyboard.press("Enter")
    result = page.wait_for_selector("#dimona-result .notice.ok")
    text = result.inner_text()
    assert "Your declaration is accepted" in text
    assert "Accepted" in page.inner_text("#dimona-result .status-badge")
    assert "06.07.05-002.52" in text
    assert "{" not in text and "DECLARATION_STATUS" not in text  # never raw JSON or enum names
    period = text.split("Dimona period number")[1].split()[0]
    assert period.isdigit()
    shot(page, "employer-dimona-accepted")

    # The new period is in the employer's list, with a way to declare its end.
    page.click('a[href="#periods"]')
    page.fill("#periods-insz", LOTTE)
    page.click("#periods-filter button[type=submit]")
    row = page.wait_for_selector(f"#periods-list tr:has(td:text-is('{period}'))")
    assert "Ordinary worker" in row.inner_text() and "open-ended" in row.inner_text()
    shot(page, "employer-periods")


def test_an_employer_sees_a_refusal_explained_in_plain_language(page, portal: Portal) -> None:  # noqa: ANN001
    """A student without planned hours: refused, each anomaly explained (not its code)."""
    sign_in(page, portal, MARIE, RETAIL)
    page.fill("#in-insz", THOMAS)
    page.select_option("#in-type", "WORKER_TYPE_STU")
    page.fill("#in-jc", "202")
    start = dt.date.today() + dt.timedelta(days=3)
    page.fill("#in-start", start.isoformat())
    page.fill("#in-end", start.isoformat())
    page.click("#dimona-submit")
    result = page.wait_for_selector("#dimona-result .notice.error")
    text = result.inner_text()
    assert "Your declaration is refused" in text
    assert "A student needs the planned hours." in text
    assert "PLANNED_HOURS_REQUIRED" not in text


def test_a_reader_sees_the_forms_disabled_and_is_refused_anyway(page, portal: Portal) -> None:  # noqa: ANN001
    sign_in(page, portal, THOMAS, RETAIL)
    assert page.is_visible("#reader-note")
    assert page.is_disabled("#dimona-submit") and page.is_disabled("#in-insz")
    shot(page, "employer-reader")
    # Re-enabled by hand (as a curious user could): the service refuses, the page explains.
    page.evaluate("document.getElementById('dimona-fieldset').disabled = false")
    page.fill("#in-insz", LOTTE)
    page.fill("#in-jc", "202")
    page.fill("#in-start", (dt.date.today() + dt.timedelta(days=9)).isoformat())
    page.click("#dimona-submit")
    error = page.wait_for_selector("#dimona-result .notice.error")
    assert "only lets you read its declarations" in error.inner_text()
    # The same with a direct fetch: 403 READ_ONLY_ROLE, nothing stored.
    reply = _fetch(
        page,
        "POST",
        f"/dimona/v1/employers/{RETAIL}/declarations",
        {
            "declaration_reference": "reader-direct-1",
            "dimona_in": {
                "worker": {"insz": LOTTE},
                "worker_type": "WORKER_TYPE_OTH",
                "joint_committee": "202",
                "start_date": {"year": 2030, "month": 1, "day": 2},
            },
        },
    )
    assert reply["status"] == 403 and _reason(reply["text"]) == "READ_ONLY_ROLE"


def _mutuality_asks(portal: Portal, insz: str, risk: dt.date) -> None:
    """mut-100, behind the mutualities' hub, asks the retailer for a ZIMA 001 (the DRS CLI)."""
    import os
    import subprocess
    import sys
    import uuid

    done = subprocess.run(
        [sys.executable, "-m", "drs.cli", "--as", "institution-mut-100",
         "--pki", str(portal.pki_dir), "--router", f"localhost:{portal.mesh.ports['hub-cin']}",
         "--employer", RETAIL, "request", insz, "--router-name", "cin",
         "--risk-date", risk.isoformat(), "--request-id", str(uuid.uuid4())],
        cwd=REPO, env={**os.environ, **portal.mesh.env}, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_employer_answers_a_request_from_the_prefilled_form_and_follows_delivery(
    page,  # noqa: ANN001
    portal: Portal,
) -> None:
    today = dt.date.today()
    hired, risk = today - dt.timedelta(days=6), today - dt.timedelta(days=2)
    sign_in(page, portal, MARIE, RETAIL)
    # Jan is hired six days ago: a late IN, accepted with a warning explained.
    page.fill("#in-insz", JAN)
    page.fill("#in-jc", "202")
    page.fill("#in-start", hired.isoformat())
    page.click("#dimona-submit")
    late = page.wait_for_selector("#dimona-result .notice.warn").inner_text()
    assert "accepted, with warnings" in late and "after its deadline" in late
    # He falls ill; his mutuality asks the employer for the declaration.
    _mutuality_asks(portal, JAN, risk)
    page.click('a[href="#drs"]')
    answer = page.wait_for_selector("#drs-tasks button:text('Answer')")
    assert "Incapacity for work (ZIMA 001)" in page.inner_text("#drs-tasks")
    answer.click()
    page.wait_for_selector("#drs-prefill-title, #drs-prefill .notice.error")
    known = page.inner_text("#drs-prefill")
    assert "Jan Frans Peeters" in known and "85.07.14-123.30" in known, known
    # The employer adds only what it alone knows: the last day worked (proposed: the day
    # before the risk date).
    assert page.input_value("#drs-f-last_day_worked") == (risk - dt.timedelta(days=1)).isoformat()
    page.click("#drs-submit")
    result = page.wait_for_selector("#drs-result .notice.ok")
    assert "Your declaration is accepted" in result.inner_text()
    # The page follows the attestation until the mutuality's inbox has it.
    page.wait_for_selector("#drs-delivery:has-text('Delivered')", timeout=90_000)
    assert "Incapacity for work (ZIMA 001)" in page.inner_text("#drs-result")
    page.wait_for_selector("#drs-tasks :text('Answered')")
    shot(page, "employer-drs-delivered")


# -- the citizen -------------------------------------------------------------------------------


def test_a_citizen_sees_the_consultation_an_institution_just_made(page, portal: Portal) -> None:  # noqa: ANN001
    sign_in(page, portal, JAN)
    page.click('a[href="#consultations"]')
    page.wait_for_selector("#consultations-list table, #consultations-list p")
    ticket = _onem_consults(portal, JAN)
    page.click("#consultations-refresh")
    row = page.wait_for_selector(f"#consultations-list tr:has-text('{ticket}')")
    text = row.inner_text()
    assert "Office national de l'emploi" in text
    assert "Checking unemployment benefits" in text  # the legal context, in plain language
    assert "Your National Register data" in text  # the service consulted, not a method name
    assert str(dt.date.today().year) in text
    assert "Peeters" not in page.inner_text("#consultations-list")  # never the payload
    shot(page, "citizen-who-consulted")
    page.click('a[href="#holders"]')
    holders = page.wait_for_selector("#holders-list table").inner_text()
    assert "Office national de l'emploi" in holders


def test_a_citizen_sees_their_own_register_data(page, portal: Portal) -> None:  # noqa: ANN001
    sign_in(page, portal, JAN)
    facts = page.wait_for_selector("#me-data dl").inner_text()
    assert "Jan Frans Peeters" in facts and "85.07.14-123.30" in facts
    assert "Antwerpen" in facts
    shot(page, "citizen-my-data")


def _forged(token: str, sub: str) -> str:
    """The same signature over a payload naming another person."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = sub
    raw = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{raw}.{signature}"


def test_a_citizen_cannot_see_another_persons_data(page, portal: Portal) -> None:  # noqa: ANN001
    sign_in(page, portal, JAN)
    page.wait_for_selector("#me-data dl, #me-error .notice")
    # A direct fetch with Jan's own token for Marie's number: refused before any holder is
    # asked, and nothing of hers in the answer.
    for path in (
        f"/registry/v1/persons/{MARIE}?read_mask=identity,address",
        f"/dimona/v1/persons/{MARIE}/periods",
        f"/drs/v1/persons/{MARIE}/declarations",
    ):
        reply = _fetch(page, "GET", path)
        assert reply["status"] == 403, (path, reply)
        assert _reason(reply["text"]) == "NOT_OWN_DATA"
        assert "Dubois" not in reply["text"]
    # The page with a token rewritten to name Marie: the edge refuses it (its signature no
    # longer matches); the page explains and offers to sign in again, showing nothing of hers.
    token = page.evaluate("sessionStorage.getItem('carrefour.token')")
    page.evaluate("(t) => sessionStorage.setItem('carrefour.token', t)", _forged(token, MARIE))
    page.reload()
    error = page.wait_for_selector("#me-error .notice.error")
    assert "Your session has ended or is not valid" in error.inner_text()
    assert page.is_visible("#me-error a:text('Sign in again')")
    assert "Dubois" not in page.inner_text("main")
    shot(page, "citizen-other-person-refused")


# -- languages, narrow screens -----------------------------------------------------------------


def test_the_language_switch_relabels_the_page_and_its_lang(page, portal: Portal) -> None:  # noqa: ANN001
    sign_in(page, portal, JAN)
    assert page.get_attribute("html", "lang") == "en"
    for lang, label in (("fr", "Mes données"), ("nl", "Mijn gegevens"), ("de", "Meine Daten")):
        page.select_option("#language", lang)
        page.wait_for_function("(l) => document.documentElement.lang === l", arg=lang)
        assert page.inner_text('a[href="#me"]') == label
    page.reload()  # the choice is remembered
    page.wait_for_function("() => document.documentElement.lang === 'de'")
    page.select_option("#language", "en")


def test_the_pages_fit_a_360_pixel_screen(browser, portal: Portal) -> None:  # noqa: ANN001
    context = browser.new_context(locale="nl-BE", viewport={"width": 360, "height": 780})
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        page.goto(portal.url)
        page.wait_for_selector("#people li")
        assert page.get_attribute("html", "lang") == "nl"  # from the browser's language
        for sub, employer in ((MARIE, RETAIL), (JAN, None)):
            sign_in(page, portal, sub, employer)
            page.wait_for_timeout(500)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, f"{page.url} is {width}px wide"
            shot(page, f"narrow-{'employer' if employer else 'citizen'}")
            page.click("#sign-out")
            page.wait_for_url(portal.url)
    finally:
        context.close()


def copy_readme_screenshots() -> None:  # pragma: no cover - run by hand after the tests
    """`python -c 'from tests.integration.portal.test_portal_browser import *;
    copy_readme_screenshots()'`: the README's two screenshots from the last run."""
    docs = REPO / "docs" / "screenshots"
    docs.mkdir(parents=True, exist_ok=True)
    for name in ("employer-dimona-accepted", "citizen-who-consulted"):
        shutil.copy(ARTIFACTS / f"{name}.png", docs / f"portal-{name}.png")
