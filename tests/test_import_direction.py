"""Imports point down only: helpdesk → nia_link → twofactor → accounts → mojeid.

A lower app that must tell a higher one something does it through an adapter the higher app
implements and settings name (`accounts.adapter`, `twofactor.adapter`), never by importing it.
Tests may import anything; the code under test may not. `adminguard` is a neutral library.
"""

from pathlib import Path

import pytest

from govsim.tests.test_boundaries import imported_modules

ROOT = Path(__file__).resolve().parent.parent
# Highest first: an app may import those after it, never those before it.
LAYERS = ["helpdesk", "nia_link", "twofactor", "accounts", "mojeid"]
ALLOWED = {"mojeid.settings", "mojeid.settings_test"}


def _app_of(module: str) -> str | None:
    if module in ALLOWED or any(module.startswith(name + ".") for name in ALLOWED):
        return None
    top = module.split(".", 1)[0]
    return top if top in LAYERS else None


def upward_imports(package: str, root: Path = ROOT) -> dict[str, list[str]]:
    above = set(LAYERS[: LAYERS.index(package)])
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).parts
        if "tests" in parts or "migrations" in parts:
            continue
        bad = sorted(name for name in imported_modules(path) if _app_of(name) in above)
        if bad:
            found[str(path.relative_to(root))] = bad
    return found


@pytest.mark.parametrize("package", LAYERS)
def test_no_app_imports_an_app_above_it(package):
    assert upward_imports(package) == {}


def test_the_walk_finds_an_upward_import(tmp_path):
    (tmp_path / "twofactor").mkdir()
    (tmp_path / "twofactor" / "example.py").write_text(
        "from nia_link import services\nfrom accounts.models import User\n", encoding="utf-8"
    )

    assert upward_imports("twofactor", tmp_path) == {"twofactor/example.py": ["nia_link.services"]}
