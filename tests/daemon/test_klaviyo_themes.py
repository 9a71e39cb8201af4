"""deploy/klaviyo: a Gift Card Issued template per Theme, named in the setup guide's flow."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cards.vocab import Theme

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
ISSUED = DEPLOY / "klaviyo" / "gift-card-issued.html"


def template_of(theme: Theme) -> Path:
    if theme is Theme.STANDARD:
        return ISSUED
    return ISSUED.with_name(f"gift-card-issued-{theme.value.lower().replace(' ', '-')}.html")


def properties(path: Path) -> set[str]:
    return set(re.findall(r"event\.([a-z_]+)", path.read_text()))


@pytest.mark.parametrize("theme", list(Theme))
def test_each_theme_has_an_issued_template_with_every_property_of_the_standard_one(
    theme: Theme,
) -> None:
    path = template_of(theme)
    text = path.read_text()
    assert properties(path) >= properties(ISSUED) - {"theme"} | {"code", "masked_code"}
    assert "event.theme" in text  # the preview text names the theme
    assert "Gift Card Issued" in text and f'"{theme.value}"' in text
    assert text.count("{% if") == text.count("{% endif %}")


def test_the_setup_guide_builds_one_flow_with_a_trigger_split_per_theme() -> None:
    guide = (DEPLOY / "README.md").read_text()
    for theme in Theme:
        assert template_of(theme).name in guide
        if theme is not Theme.STANDARD:
            assert f"Trigger split: theme equals {theme.value}" in guide
