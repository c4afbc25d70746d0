"""The Statistics page's static parts: every category the warehouse publishes has a label in the
four languages, every label the page builds from a variable exists, the charts' series colours
are told apart from the white background (non-text contrast >= 3:1), the page follows the CSP
(no inline script or style; SVG built with createElementNS, text with textContent) and both
areas link to it."""

from __future__ import annotations

import json
import re

import pytest

from portal.config import STATIC
from tests.unit.portal.test_portal_contrast import CSS, contrast
from warehouse.service import categories

LANGUAGES = ("en", "fr", "nl", "de")
SCRIPT = (STATIC / "js" / "statistics.js").read_text()
PAGE = (STATIC / "statistics.html").read_text()


def _load(lang: str) -> dict[str, str]:
    return json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


#: The warehouse's categories (services/warehouse/service/categories.py), by dimension.
CATEGORIES = {
    "region": categories.REGIONS,
    "age_band": tuple(label for label, _, _ in categories.AGE_BANDS) + (categories.UNKNOWN,),
    "worker_class": categories.WORKER_CLASSES,
    "sex": categories.SEXES,
    "joint_committee": (categories.NO_JOINT_COMMITTEE, "XXX", categories.UNKNOWN),
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_published_category_has_a_label_when_shown(lang: str) -> None:
    labels = _load(lang)
    for dimension, codes in CATEGORIES.items():
        assert labels[f"stats.dim.{dimension}"].strip()
        for code in codes:
            assert labels[f"stats.cat.{dimension}.{code}"].strip(), (lang, dimension, code)


def test_the_page_orders_the_categories_as_the_warehouse_defines_them() -> None:
    """The page's reading order names exactly the warehouse's codes (no stale or missing one)."""
    for dimension in ("region", "age_band", "worker_class", "sex"):
        found = re.search(rf"\b{dimension}: \[([^\]]*)\]", SCRIPT)
        assert found, dimension
        codes = tuple(json.loads(f"[{found.group(1)}]"))
        assert codes == tuple(CATEGORIES[dimension]), dimension


def test_the_labels_the_page_builds_from_a_section_exist_when_rendered() -> None:
    """Keys built as t(`stats.${section}.…`) and t(`stats.dim.${…}`), which the general i18n
    test cannot see."""
    english = _load("en")
    sections = re.findall(r'\[\s*"([a-z_]+)",\s*"[a-z_]+",', SCRIPT)
    assert set(sections) == {"total", "region", "age", "class_sex", "jc"}
    for section in sections:
        for part in ("title", "intro", "chart", "caption"):
            assert f"stats.{section}.{part}" in english, (section, part)
    for section in re.findall(r'<section id="([a-z_]+)"', PAGE):
        assert section in sections
        assert f'data-i18n="stats.{section}.title"' in PAGE


def test_the_chart_series_are_told_apart_from_the_background_when_drawn() -> None:
    series = dict(re.findall(r"--(series-[0-9]+):\s*(#[0-9a-fA-F]{6})\s*;", CSS))
    assert sorted(series) == [f"series-{n}" for n in range(5)]
    for name, colour in series.items():
        assert contrast(colour, "bg") >= 3.0, name  # WCAG 1.4.11, graphical objects
        assert re.search(rf"\.bar\.{name}\s*{{\s*fill:\s*var\(--{name}\)", CSS), name
        assert re.search(rf"\.swatch\.{name}\s*{{\s*background:\s*var\(--{name}\)", CSS), name
    assert contrast("muted", "bg") >= 3.0  # the hatching of a suppressed cell


def test_the_page_builds_its_charts_without_inline_style_or_markup_when_loaded() -> None:
    assert "innerHTML" not in SCRIPT and "insertAdjacentHTML" not in SCRIPT
    assert ".style" not in SCRIPT and '"style"' not in SCRIPT
    assert "createElementNS" in SCRIPT and 'role: "img"' in SCRIPT
    assert "<script>" not in PAGE and " style=" not in PAGE
    assert '<script type="module" src="/js/statistics.js"></script>' in PAGE


@pytest.mark.parametrize("area", ["citizen.html", "employer.html"])
def test_both_areas_link_to_the_statistics_when_navigating(area: str) -> None:
    text = (STATIC / area).read_text()
    assert '<a href="/statistics.html" data-i18n="stats.nav">' in text
