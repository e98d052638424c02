"""The README is a first page and docs/ the reference: every relative link (and its #anchor) in them leads
somewhere, they never cite the product spec (it is not in the repository), the README stays short, the long
pages have a table of contents, and every setting the code reads is documented in docs/settings.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(path: Path) -> set[str]:
    """The #anchors GitHub makes for a Markdown file's headings."""
    found = set()
    for line in path.read_text().splitlines():
        if match := re.match(r"^#{1,6} (.*)$", line):
            text = re.sub(r"[^\w\- ]", "", match.group(1).strip().lower())
            found.add(text.replace(" ", "-"))
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"^[a-z]+:", target):
            continue  # an absolute URL
        file_part, _, anchor = target.partition("#")
        linked = (page.parent / file_part).resolve() if file_part else page
        if not linked.exists() or (anchor and linked.suffix == ".md" and anchor not in anchors(linked)):
            broken.append(target)
    assert not broken, broken


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_page_cites_the_spec(page: Path) -> None:
    text = page.read_text()
    assert not re.search(r"spec\.md|\bthe spec\b|\bspec §|§\s*\d|\bsection \d", text, re.IGNORECASE), page.name


def test_the_readme_is_a_first_page_that_links_the_reference() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.split()) < 1600, "a newcomer reads it in five minutes"
    for command in ("make run", "make test", "storebridge check", "To try it out"):
        assert command in readme
    for platform in ("Shopify", "WooCommerce", "EcartAPI", "custom"):
        assert f"**{platform}" in readme or f"({platform})" in readme, platform
    for name in ("settings", "receiving", "delivering", "operating", "deploy", "performance"):
        assert f"(docs/{name}.md)" in readme, name
    assert "docs/dashboard.png" in readme


@pytest.mark.parametrize("page", [p for p in PAGES if p.parent.name == "docs"], ids=lambda p: p.name)
def test_long_pages_have_a_table_of_contents(page: Path) -> None:
    if len(page.read_text().splitlines()) > 100:
        assert "## Contents" in page.read_text(), page.name


def test_every_setting_is_documented() -> None:
    documented = (ROOT / "docs" / "settings.md").read_text() + (ROOT / "docs" / "operating.md").read_text()
    # The core's settings modules and each integration's `settings.py` (bridge/settings.py gathers them).
    modules = [*(ROOT / "bridge").glob("settings*.py"), *(ROOT / "bridge").glob("*/*/settings.py")]
    source = "".join(path.read_text() for path in modules)
    names = set(re.findall(r'"(BRIDGE_[A-Z0-9_]+)"', source))
    assert names, "the scan finds the settings"
    missing = sorted(name for name in names if name not in documented)
    assert not missing, missing
