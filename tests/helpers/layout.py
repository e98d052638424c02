"""Figures about the shape of `bridge/`: where each integration is named in code, and how long modules are.

"Named in code" means in an identifier or a string that is not a docstring; comments and docstrings may name
any platform. Run `python -m tests.helpers.layout` to print the figures; `tests/test_architecture.py` holds
the limits.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path

BRIDGE = Path(__file__).resolve().parents[2] / "bridge"

# Each integration: how it is spelt in code, and the folders that are its own.
INTEGRATIONS: dict[str, tuple[re.Pattern[str], tuple[str, ...]]] = {
    "shopify": (re.compile(r"shopify", re.I), ("platforms/shopify",)),
    "woocommerce": (re.compile(r"woocommerce|\bwoo_|^woo$|^wc_", re.I), ("platforms/woocommerce",)),
    "ecartapi": (re.compile(r"ecart", re.I), ("platforms/ecartapi", "destinations/ecartapi")),
    "activecampaign": (re.compile(r"activecampaign|active campaign", re.I), ("destinations/activecampaign",)),
}
#: Spellings that name an integration only as an identifier (`ac.NAME`, `ac_token`): as a string, "ac" is also
#: the segment of Shopify's abandoned-checkout URLs (`/checkouts/ac/<token>`).
IDENTIFIER_SPELLINGS: dict[str, re.Pattern[str]] = {"activecampaign": re.compile(r"^ac$|^ac_", re.I)}


def _docstring_nodes(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def code_words(path: Path) -> Iterator[tuple[str, bool]]:
    """Every identifier and non-docstring string of one module, each with whether it is a string."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = _docstring_nodes(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            yield node.id, False
        elif isinstance(node, ast.Attribute):
            yield node.attr, False
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield node.name, False
        elif isinstance(node, ast.arg) or (isinstance(node, ast.keyword) and node.arg):
            yield node.arg, False
        elif isinstance(node, ast.alias):
            yield from ((part, False) for part in node.name.split("."))
            if node.asname:
                yield node.asname, False
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield from ((part, False) for part in node.module.split("."))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.value, True


def modules() -> list[Path]:
    """Every Python module of `bridge/`, migrations included."""
    return sorted(BRIDGE.rglob("*.py"))


def files_naming(integration: str) -> list[str]:
    """The modules outside the integration's own folders that name it in code."""
    pattern, own = INTEGRATIONS[integration]
    found = []
    for path in modules():
        rel = path.relative_to(BRIDGE).as_posix()
        if any(rel.startswith(folder + "/") for folder in own):
            continue
        identifier = IDENTIFIER_SPELLINGS.get(integration)
        words = code_words(path)
        if any(
            pattern.search(word) or (identifier and not is_string and identifier.search(word))
            for word, is_string in words
        ):
            found.append(rel)
    return found


def module_lengths() -> dict[str, int]:
    """Lines per module, longest first."""
    lengths = {path.relative_to(BRIDGE).as_posix(): len(path.read_text().splitlines()) for path in modules()}
    return dict(sorted(lengths.items(), key=lambda item: -item[1]))


def main() -> None:
    for name in INTEGRATIONS:
        files = files_naming(name)
        print(f"{name}: named in code in {len(files)} modules outside its folders")
        for rel in files:
            print(f"    {rel}")
    lengths = module_lengths()
    over = {rel: n for rel, n in lengths.items() if n > 300}
    print(f"modules: {len(lengths)}; longest: {next(iter(lengths.items()))}; over 300 lines: {len(over)}")
    for rel, n in over.items():
        print(f"    {rel}: {n}")


if __name__ == "__main__":
    sys.exit(main())
