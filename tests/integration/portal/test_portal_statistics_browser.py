"""The portal's Statistics page in a real headless Chromium (Debian's, through Playwright),
against the whole mesh as `make run` starts it — the warehouse included, with the seeded quarter
built — behind the edge's browser listener (tests.support.portal; the fixtures are the other
browser tests').

- A signed-in citizen opens Statistics from their area and sees every chart drawn from the REST
  tables they can read themselves: one bar or marker per cell of each table, every suppressed
  cell drawn as suppressed (hatched, ✕, no value), never a figure the JSON does not have; the
  table under each chart holds the JSON's numbers (pay in euros from cents), the threshold and
  dominance percent of the table are in the note. Whatever the seed leaves suppressed.
- The language switch relabels the categories, quarters, headings and tables; the metric switch
  redraws the bars (pay instead of persons); an employer's staff reaches the page too.
- Several quarters (the seeded mesh has one, other deployments more): the same page given
  three quarters of REST answers by the test (ListTables over two pages), bars proportional to
  the figures, quarters in order on the x axis, the quarter chosen for the detailed charts; a
  refused table or an unreachable warehouse explained in plain language.
- It fits a 360 px wide screen.

Screenshots in var/test-artifacts/portal/ (statistics*.png); the README's is copied by hand with
`copy_readme_screenshot()` after a run.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from tests.integration.portal import test_portal_browser as _browser_tests
from tests.integration.portal.test_portal_browser import (
    ARTIFACTS,
    JAN,
    MARIE,
    REPO,
    RETAIL,
    TIMEOUT,
    shot,
    sign_in,
)
from tests.support.portal import Portal

# make_run: `make run`'s mesh is always on SQLite; CI's PostgreSQL pass leaves it out.
pytestmark = [pytest.mark.integration, pytest.mark.make_run]

# The browser tests' fixtures (Debian's Chromium, the whole mesh, a page that fails on any
# JavaScript error), shared by name.
chromium = _browser_tests.chromium
portal = _browser_tests.portal
browser = _browser_tests.browser
page = _browser_tests.page

PROJECT = "dwh-standard"
NAME = re.compile(r"^projects/dwh-standard/quarters/(\d{4}Q[1-4])/tables/([a-z_]+)$")
#: Page section -> (table, drawn over quarters?).
SECTIONS = {
    "total": ("total", True),
    "region": ("region", True),
    "age": ("age_band", False),
    "class_sex": ("class_sex", False),
    "jc": ("joint_committee", False),
}
READY = "#total svg.chart, #stats-error .notice"


# -- the REST answers, read as the signed-in person -------------------------------------------


def _cells(table: dict[str, Any]) -> list[dict[str, Any]]:
    """The cells as the page must draw them: int64 values arrive as JSON strings."""
    out = []
    for cell in table.get("cells", []):
        suppressed = bool(cell.get("suppressed", False))
        out.append(
            {
                "categories": "|".join(cell.get("categories", [])),
                "suppressed": suppressed,
                "persons": None if suppressed else int(cell["persons"]),
                "pay": None if suppressed else int(cell["pay"]),
            }
        )
    return out


def _rest(portal: Portal, token: str) -> tuple[list[str], dict[tuple[str, str], dict]]:
    """Every quarter listed (oldest first) and every table of the charts, by (quarter, id)."""
    listed: list[dict[str, Any]] = []
    page_token = ""
    while True:
        query = "?page_size=2" + (f"&page_token={page_token}" if page_token else "")
        status, body = portal.request(
            "GET", f"/warehouse/v1/projects/{PROJECT}/tables{query}", token
        )
        assert status == 200, body
        listed += body["tables"]
        page_token = body.get("next_page_token", "")
        if not page_token:
            break
    quarters = sorted({NAME.match(t["name"]).group(1) for t in listed})[-8:]
    tables = {}
    for table in listed:
        quarter, table_id = NAME.match(table["name"]).groups()
        if quarter in quarters and table_id != "jc_class_age_sex_region":
            status, body = portal.request("GET", f"/warehouse/v1/{table['name']}", token)
            assert status == 200, body
            tables[(quarter, table_id)] = body["table"]
    return quarters, tables


def _drawn(page, section: str) -> list[dict[str, Any]]:  # noqa: ANN001
    """Every bar and marker of a section's chart, as the page drew it."""
    return page.evaluate(
        """(section) => [
          ...document.querySelectorAll(`#${section} svg.chart rect[data-cell]`),
        ].map((r) => ({
            quarter: r.dataset.quarter, table: r.dataset.table, categories: r.dataset.categories,
            suppressed: r.dataset.suppressed === "true", cls: r.getAttribute("class"),
            fill: r.getAttribute("fill"), persons: r.dataset.persons ?? null,
            pay: r.dataset.pay ?? null,
            height: Number(r.getAttribute("height")), x: Number(r.getAttribute("x")),
            mark: r.parentNode.querySelector("text.mark")?.textContent ?? null,
        }))""",
        section,
    )


def _rows(page, section: str) -> list[dict[str, Any]]:  # noqa: ANN001
    """Every row of a section's table: its keys and its cells' texts."""
    return page.evaluate(
        """(section) => [...document.querySelectorAll(`#${section} table tbody tr`)].map((tr) => ({
            quarter: tr.dataset.quarter, categories: tr.dataset.categories,
            suppressed: tr.dataset.suppressed === "true",
            texts: [...tr.children].map((c) => c.textContent.trim()),
            persons: tr.querySelector('[data-field="persons"]')?.textContent ?? null,
            pay: tr.querySelector('[data-field="pay"]')?.textContent ?? null,
            average: tr.querySelector('[data-field="average"]')?.textContent ?? null,
        }))""",
        section,
    )


def _euros(cents: int) -> str:
    """en-GB's Intl format of euro cents."""
    return f"€{Decimal(cents) / 100:,.2f}"


def _average(pay: int, persons: int) -> str:
    return _euros(int((Decimal(pay) / persons).quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def _check_section(page, section: str, expected: list[tuple[str, dict]]) -> None:  # noqa: ANN001
    """The chart and the table of `section` hold exactly the cells of the tables `expected`
    ([(quarter, table JSON)]): a bar per published cell with its values, a hatched ✕ marker
    without a value per suppressed one; the table's numbers the JSON's, formatted."""
    table_id = SECTIONS[section][0]
    want = sorted(
        (quarter, cell["categories"], cell["suppressed"], cell["persons"], cell["pay"])
        for quarter, table in expected
        for cell in _cells(table)
    )
    drawn = _drawn(page, section)
    assert len(drawn) == len(want), (section, drawn, want)
    got = sorted(
        (
            d["quarter"],
            d["categories"],
            d["suppressed"],
            None if d["persons"] is None else int(d["persons"]),
            None if d["pay"] is None else int(d["pay"]),
        )
        for d in drawn
    )
    assert got == want, section
    for d in drawn:
        assert d["table"] == table_id
        if d["suppressed"]:
            assert "suppressed" in d["cls"].split() and "bar" not in d["cls"].split()
            assert d["fill"].startswith("url(#") and d["mark"] == "✕"
            assert d["persons"] is None and d["pay"] is None  # never a guessed figure
        else:
            assert "bar" in d["cls"].split() and d["mark"] is None and d["height"] >= 1
    # The accessible alternative: the same cells, the JSON's numbers.
    rows = _rows(page, section)
    assert len(rows) == len(want), section
    by_key = {(r["quarter"], r["categories"]): r for r in rows}
    for quarter, categories, suppressed, persons, pay in want:
        row = by_key[(quarter, categories)]
        assert row["suppressed"] is suppressed
        if suppressed:
            assert row["persons"] is None and row["pay"] is None
            assert sum("Suppressed" in text for text in row["texts"]) == 3, row
            assert not any(re.search(r"\d", text) for text in row["texts"][-3:]), row
        else:
            assert row["persons"] == f"{persons:,}", row
            assert row["pay"] == _euros(pay), row
            assert row["average"] == _average(pay, persons), row
    # The chart names itself and says what it holds; the note gives each table's rule.
    svg = page.locator(f"#{section} svg.chart")
    assert svg.get_attribute("role") == "img"
    title_id, desc_id = svg.get_attribute("aria-labelledby").split()
    desc = page.locator(f"#{section} desc").text_content()
    assert page.locator(f"#{section} title#{title_id}").text_content().strip()
    assert page.locator(f"#{section} desc#{desc_id}").count() == 1
    suppressed_count = sum(1 for w in want if w[2])
    assert f"{len(want)} bars, of which {suppressed_count} suppressed" in desc, desc
    notes = page.locator(f"#{section} .suppressed-note").all_text_contents()
    if suppressed_count:
        rules = {(t["threshold"], t["dominance_percent"]) for _, t in expected}
        for threshold, percent in rules:
            assert any(
                f"fewer than {threshold} persons" in n and f"{percent} %" in n for n in notes
            ), notes
    else:
        assert notes == []


def _open_statistics(page, portal: Portal, sub: str, employer: str | None = None) -> None:  # noqa: ANN001
    sign_in(page, portal, sub, employer)
    page.click('nav a[href="/statistics.html"]')
    page.wait_for_url("**/statistics.html")
    page.wait_for_selector(READY)


# -- the real mesh --------------------------------------------------------------------------------


def test_a_citizen_sees_the_charts_drawn_from_the_warehouse_tables(page, portal: Portal) -> None:  # noqa: ANN001
    _open_statistics(page, portal, JAN)
    assert page.locator("#stats-error .notice").count() == 0
    quarters, tables = _rest(portal, portal.token(JAN))
    assert quarters, "the mesh's seeded quarter is built and listed"
    latest = quarters[-1]
    for section, (table_id, over_quarters) in SECTIONS.items():
        page.wait_for_selector(f"#{section} svg.chart")
        expected = [
            (q, tables[(q, table_id)])
            for q in (quarters if over_quarters else [latest])
            if (q, table_id) in tables
        ]
        _check_section(page, section, expected)
    # The region chart: a series per region, its legend in words; quarters on the x axis.
    regions = {
        c["categories"][0]
        for (_, t), table in tables.items()
        if t == "region"
        for c in table["cells"]
    }
    legend = page.inner_text("#region .legend")
    names = {"BRUSSELS": "Brussels-Capital", "FLANDERS": "Flanders", "WALLONIA": "Wallonia",
             "ABROAD": "Abroad", "UNKNOWN": "Unknown"}  # fmt: skip
    for code in regions:
        assert names[code] in legend
    labels = page.locator("#region svg.chart text.group-label").all_text_contents()
    assert labels == [f"Q{q[-1]} {q[:4]}" for q in quarters]
    assert page.input_value("#stats-quarter") == latest
    shot(page, "statistics")


def test_the_statistics_follow_the_language_and_the_metric(page, portal: Portal) -> None:  # noqa: ANN001
    _open_statistics(page, portal, JAN)
    page.wait_for_selector("#age svg.chart")
    quarter = page.input_value("#stats-quarter")
    english = page.inner_text("#age table")
    year, q = quarter[:4], quarter[-1]
    for lang, heading, quarter_label, persons in (
        ("fr", "Statistiques : emploi et rémunérations", f"T{q} {year}", "Personnes au travail"),
        ("nl", "Statistieken: werk en loon", f"K{q} {year}", "Personen aan het werk"),
        (
            "de",
            "Statistiken: Beschäftigung und Entlohnung",
            f"Q{q} {year}",
            "Beschäftigte Personen",
        ),
    ):
        page.select_option("#language", lang)
        page.wait_for_function("(l) => document.documentElement.lang === l", arg=lang)
        assert page.inner_text("h1") == heading
        assert quarter_label in page.inner_text("#stats-quarter")
        assert persons in page.inner_text("#region table thead")
        assert page.inner_text("#age table") != english
        svg_title = page.locator("#region svg.chart title").first.text_content()
        assert persons in svg_title, svg_title
    # Category labels, the suppressed wording: each language's own.
    page.select_option("#language", "fr")
    page.wait_for_function("() => document.documentElement.lang === 'fr'")
    regions = page.locator("#region tbody tr td:nth-child(2)").all_text_contents()
    assert regions and set(regions) <= {
        "Bruxelles-Capitale",
        "Flandre",
        "Wallonie",
        "Étranger",
        "Inconnue",
    }
    if page.locator("#region tr[data-suppressed=true]").count():
        assert "Masqué" in page.inner_text("#region tr[data-suppressed=true]")
        assert "moins de" in page.inner_text("#region .suppressed-note")
    page.select_option("#language", "en")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    # Pay instead of persons: the same cells drawn, the axis says so.
    before = len(_drawn(page, "region"))
    page.check('input[name="metric"][value="pay"]')
    page.wait_for_selector("#region svg.chart text.axis-title:text('Pay in the quarter')")
    assert len(_drawn(page, "region")) == before
    page.check('input[name="metric"][value="persons"]')


def test_an_employers_staff_reaches_the_statistics_too(page, portal: Portal) -> None:  # noqa: ANN001
    _open_statistics(page, portal, MARIE, RETAIL)
    page.wait_for_selector("#region svg.chart")
    assert page.get_attribute("#home-link", "href") == "/employer.html"
    assert page.inner_text("#home-link") == "Employer area"
    assert "declarant" in page.inner_text("#who")


def test_the_statistics_fit_a_360_pixel_screen(browser, portal: Portal) -> None:  # noqa: ANN001
    context = browser.new_context(locale="nl-BE", viewport={"width": 360, "height": 780})
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        _open_statistics(page, portal, JAN)
        page.wait_for_selector("#jc svg.chart")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"the statistics page is {width}px wide"
        shot(page, "narrow-statistics")
    finally:
        context.close()


# -- several quarters: the page given REST answers by the test --------------------------------

QUARTERS = ("2025Q3", "2025Q4", "2026Q1")


def _cell(categories: list[str], persons: int | None = None, pay: int | None = None) -> dict:
    if persons is None:
        return {"categories": categories, "suppressed": True}
    return {"categories": categories, "persons": str(persons), "pay": str(pay), "suppressed": False}


def _synthetic() -> dict[str, dict]:
    """Three quarters of the six tables' margins, some cells suppressed, as GetTable answers."""
    out: dict[str, dict] = {}
    for i, quarter in enumerate(QUARTERS):
        cells = {
            "total": ([], [_cell([], 199 + 7 * i, 2_015_123_456 + 50_000_000 * i)]),
            "region": (["region"], [
                _cell(["BRUSSELS"]),
                _cell(["FLANDERS"], 99 + 3 * i, 1_044_845_000 + 9_000_000 * i),
                _cell(["WALLONIA"], 58 + 4 * i, 611_360_000 + 7_000_000 * i),
                _cell(["ABROAD"]),
            ] + ([] if i == 0 else [_cell(["UNKNOWN"])])),
            "age_band": (["age_band"], [
                _cell(["<25"], 22 + i, 80_000_000), _cell(["25-34"], 51, 420_000_000),
                _cell(["35-44"], 49, 500_000_000), _cell(["45-54"], 44 - i, 480_000_000),
                _cell(["55-64"]), _cell(["65+"]),
            ]),
            "class_sex": (["worker_class", "sex"], [
                _cell(["BLUE_COLLAR", "MALE"], 40, 300_000_000),
                _cell(["BLUE_COLLAR", "FEMALE"], 12, 80_000_000),
                _cell(["WHITE_COLLAR", "MALE"], 60, 600_000_001),
                _cell(["WHITE_COLLAR", "FEMALE"], 70, 700_000_000),
                _cell(["STUDENT", "FEMALE"]), _cell(["STUDENT", "MALE"]),
            ]),
            "joint_committee": (["joint_committee"], [
                _cell(["124"], 30, 300_000_000), _cell(["202"], 90, 800_000_000),
                _cell(["302"], 40, 200_000_000), _cell(["NONE"]), _cell(["XXX"]),
            ]),
        }  # fmt: skip
        for table_id, (dimensions, table_cells) in cells.items():
            name = f"projects/{PROJECT}/quarters/{quarter}/tables/{table_id}"
            out[name] = {
                "name": name, "title": table_id, "dimensions": dimensions, "cells": table_cells,
                "cell_count": len(table_cells),
                "suppressed_count": sum(c["suppressed"] for c in table_cells),
                "threshold": 5 + i, "dominance_percent": 10,
            }  # fmt: skip
    return out


def _status(code: int, reason: str) -> str:
    return json.dumps({
        "code": code, "message": reason.lower(),
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason,
                     "domain": "warehouse.cbss"}],
    })  # fmt: skip


@pytest.fixture
def served(page) -> Iterator[dict[str, Any]]:  # noqa: ANN001
    """The warehouse's REST answers given by the test: ListTables in two pages, GetTable from
    `_synthetic()`; `refuse` maps a path to (HTTP status, reason)."""
    tables = _synthetic()
    log: dict[str, Any] = {"tables": tables, "requests": [], "refuse": {}}
    listing = [{**t, "cells": []} for t in tables.values()]

    def handle(route) -> None:  # noqa: ANN001
        url = route.request.url
        path = url.split("/warehouse/v1/", 1)[1]
        log["requests"].append(path)
        bare = path.split("?")[0]
        if bare in log["refuse"]:
            status, reason = log["refuse"][bare]
            route.fulfill(
                status=status, content_type="application/json", body=_status(status // 100, reason)
            )
        elif bare == f"projects/{PROJECT}/tables":
            second = "page_token=p2" in path
            half = len(listing) // 2
            body = {"tables": listing[half:] if second else listing[:half],
                    "next_page_token": "" if second else "p2"}  # fmt: skip
            route.fulfill(status=200, content_type="application/json", body=json.dumps(body))
        elif bare in tables:
            route.fulfill(
                status=200,
                content_type="application/json",
                body=json.dumps({"table": tables[bare]}),
            )
        else:
            route.fulfill(
                status=404, content_type="application/json", body=_status(5, "TABLE_NOT_FOUND")
            )

    page.route("**/warehouse/v1/**", handle)
    yield log


def _table(served: dict, quarter: str, table_id: str) -> dict:
    return served["tables"][f"projects/{PROJECT}/quarters/{quarter}/tables/{table_id}"]


def test_several_quarters_are_drawn_in_order_and_to_scale(
    page, portal: Portal, served: dict
) -> None:  # noqa: ANN001
    _open_statistics(page, portal, JAN)
    assert any("page_token=p2" in r for r in served["requests"])  # every page of the listing
    for section in ("total", "region"):
        table_id = SECTIONS[section][0]
        _check_section(page, section, [(q, _table(served, q, table_id)) for q in QUARTERS])
    for section in ("age", "class_sex", "jc"):
        table_id = SECTIONS[section][0]
        _check_section(page, section, [(QUARTERS[-1], _table(served, QUARTERS[-1], table_id))])
    # Quarters left to right, oldest first; a bar's height is proportional to its figure.
    labels = page.locator("#region svg.chart text.group-label").all_text_contents()
    assert labels == ["Q3 2025", "Q4 2025", "Q1 2026"]
    bars = [d for d in _drawn(page, "region") if not d["suppressed"]]
    flanders = sorted((d for d in bars if d["categories"] == "FLANDERS"), key=lambda d: d["x"])
    assert [d["quarter"] for d in flanders] == list(QUARTERS)
    ratio = bars[0]["height"] / int(bars[0]["persons"])
    for d in bars:
        assert abs(d["height"] / int(d["persons"]) - ratio) < 0.01 * ratio, d
    page.check('input[name="metric"][value="pay"]')
    page.wait_for_selector("#region svg.chart text.axis-title:text('Pay in the quarter')")
    bars = [d for d in _drawn(page, "region") if not d["suppressed"]]
    ratio = bars[0]["height"] / int(bars[0]["pay"])
    for d in bars:
        assert abs(d["height"] / int(d["pay"]) - ratio) < 0.01 * ratio, d
    # Each quarter's own threshold in its note.
    notes = page.inner_text("#region")
    assert all(f"fewer than {5 + i} persons" in notes for i in range(3))
    # Another quarter for the detailed charts.
    page.select_option("#stats-quarter", QUARTERS[0])
    page.wait_for_selector(f"#age svg.chart rect[data-quarter='{QUARTERS[0]}']")
    _check_section(page, "age", [(QUARTERS[0], _table(served, QUARTERS[0], "age_band"))])
    _check_section(page, "class_sex", [(QUARTERS[0], _table(served, QUARTERS[0], "class_sex"))])
    assert "Q3 2025" in page.inner_text("#age-intro")
    shot(page, "statistics-several-quarters")


def test_a_refused_table_is_explained_and_the_others_still_drawn(
    page, portal: Portal, served: dict
) -> None:  # noqa: ANN001
    served["refuse"][f"projects/{PROJECT}/quarters/{QUARTERS[-1]}/tables/age_band"] = (
        404,
        "TABLE_NOT_FOUND",
    )
    _open_statistics(page, portal, JAN)
    error = page.wait_for_selector("#age-error .notice.error").inner_text()
    assert "This table has not been published." in error and "TABLE_NOT_FOUND" not in error
    assert page.locator("#age svg.chart").count() == 0
    _check_section(page, "class_sex", [(QUARTERS[-1], _table(served, QUARTERS[-1], "class_sex"))])


@pytest.mark.parametrize(
    ("status", "reason", "sentence"),
    [
        (503, "UNAVAILABLE", "The service is not available right now."),
        (401, "UNAUTHENTICATED", "Your session has ended or is not valid."),
    ],
)
def test_an_unreachable_warehouse_is_explained_in_plain_language(
    page,  # noqa: ANN001
    portal: Portal,
    served: dict,
    status: int,
    reason: str,
    sentence: str,
) -> None:
    served["refuse"][f"projects/{PROJECT}/tables"] = (status, reason)
    _open_statistics(page, portal, JAN)
    error = page.wait_for_selector("#stats-error .notice.error").inner_text()
    assert sentence in error and "{" not in error
    assert page.locator("svg.chart").count() == 0 and page.is_hidden("#stats-controls")
    if status == 401:
        assert page.is_visible("#stats-error a:text('Sign in again')")


def copy_readme_screenshot() -> None:  # pragma: no cover - run by hand after the tests
    """`python -c 'from tests.integration.portal.test_portal_statistics_browser import *;
    copy_readme_screenshot()'`: the README's screenshot of the Statistics page."""
    docs = REPO / "docs" / "screenshots"
    docs.mkdir(parents=True, exist_ok=True)
    shutil.copy(ARTIFACTS / "statistics.png", docs / "portal-statistics.png")
