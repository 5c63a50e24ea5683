"""The two deployables stay apart: the simulated world (govsim/, czechpoint/) imports no portal
module, and the portal imports none of the simulator's. They meet only over HTTP and SAML (and
the embedded stack mounts the simulator's URLs by their dotted name, which is not an import).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SIMULATOR = ("govsim", "czechpoint")
PORTAL = ("accounts", "twofactor", "nia_link", "helpdesk", "mojeid")
# The project package mojeid/ also holds the shared settings, which the simulator runs with.
ALLOWED = {"mojeid.settings", "mojeid.settings_test"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # "from pkg import name" may name a module or an attribute: keep the longest.
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def belongs_to(name: str, packages: tuple[str, ...]) -> bool:
    if any(_within(name, allowed) for allowed in ALLOWED):
        return False
    return any(_within(name, package) for package in packages)


def offenders(own: tuple[str, ...], foreign: tuple[str, ...]) -> dict[str, list[str]]:
    found = {}
    for package in own:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "tests" in path.relative_to(ROOT).parts:
                continue  # a test may set up both sides; the code under test may not
            bad = sorted(name for name in imported_modules(path) if belongs_to(name, foreign))
            if bad:
                found[str(path.relative_to(ROOT))] = bad
    return found


def test_no_module_of_the_simulated_world_imports_portal_code():
    assert offenders(SIMULATOR, PORTAL) == {}


def test_no_module_of_the_portal_imports_the_simulator():
    assert offenders(PORTAL, SIMULATOR) == {}


@pytest.mark.parametrize(
    "source, found",
    [
        ("import twofactor.models", True),
        ("from accounts import services", True),
        ("from mojeid.messaging import queue_email", True),
        ("from mojeid import settings", False),
        ("from mojeid.settings import VAR_DIR", False),
        ("import mojeid.models", True),
        ("from django.conf import settings", False),
        ("from .models import Citizen", False),  # relative: inside the package itself
        ("import govsim.rob.models", False),
    ],
)
def test_the_walk_recognises_a_portal_import(tmp_path, source, found):
    module = tmp_path / "example.py"
    module.write_text(source + "\n", encoding="utf-8")

    names = imported_modules(module)

    assert any(belongs_to(name, PORTAL) for name in names) is found
