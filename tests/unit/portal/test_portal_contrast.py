"""The stylesheet's colours: every text colour on the background it is used on reaches WCAG's
4.5:1 (computed from the CSS custom properties, so a change of palette is checked)."""

from __future__ import annotations

import re

import pytest

from portal.config import STATIC

CSS = (STATIC / "css" / "portal.css").read_text()
VARIABLES = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})\s*;", CSS))


def _colour(name: str) -> str:
    return name if name.startswith("#") else VARIABLES[name]


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    high, low = sorted((_luminance(_colour(foreground)), _luminance(_colour(background))))[::-1]
    return (high + 0.05) / (low + 0.05)


#: (text, background) as the stylesheet pairs them.
PAIRS = [
    ("text", "bg"), ("muted", "bg"), ("brand", "bg"), ("text", "panel"), ("muted", "panel"),
    ("brand", "panel"), ("#ffffff", "brand"), ("error", "error-bg"), ("ok", "ok-bg"),
    ("warn", "warn-bg"), ("error", "bg"), ("brand-dark", "bg"), ("#4a5360", "#e3e6ea"),
]  # fmt: skip


@pytest.mark.parametrize(("foreground", "background"), PAIRS)
def test_text_contrast_is_at_least_4_5_when_rendered(foreground: str, background: str) -> None:
    assert contrast(foreground, background) >= 4.5


def test_every_text_colour_of_the_stylesheet_is_checked_when_declared() -> None:
    checked = {p for pair in PAIRS for p in pair}
    for name in ("text", "muted", "brand", "brand-dark", "error", "ok", "warn"):
        assert name in VARIABLES and name in checked


def test_focus_is_visible_when_a_control_has_it() -> None:
    assert re.search(r":focus-visible\s*{[^}]*outline:\s*3px solid", CSS)
    assert contrast("focus", "bg") >= 3.0  # a non-text indicator: 3:1
