"""The suite under pytest-xdist (``make test``): a module whose fixtures are module-scoped runs on
one worker (``pytest.mark.xdist_group``), so each such fixture is built once, not once per worker;
and the groups reach xdist's scheduler (pytest 9.2 broke that for xdist 3.8 silently, hence the
pin ``pytest<9.2`` in pyproject.toml)."""

import ast
import os
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def _module_scoped(tree: ast.Module) -> bool:
    return any(isinstance(node, ast.keyword) and node.arg == "scope" and isinstance(node.value, ast.Constant)
               and node.value.value == "module" for node in ast.walk(tree))


def _grouped(tree: ast.Module) -> bool:
    marks = [node.value for node in tree.body if isinstance(node, ast.Assign)
             and any(isinstance(target, ast.Name) and target.id == "pytestmark" for target in node.targets)]
    return any(isinstance(node, ast.Attribute) and node.attr == "xdist_group"
               for mark in marks for node in ast.walk(mark))


def test_modules_with_module_fixtures_are_grouped():
    ungrouped = [str(path.relative_to(TESTS)) for path in sorted(TESTS.rglob("test_*.py"))
                 if _module_scoped(tree := ast.parse(path.read_text())) and not _grouped(tree)]
    assert ungrouped == [], "add pytestmark = pytest.mark.xdist_group(__name__) to these modules"


def test_the_rule_sees_a_module_fixture_and_a_group():
    fixture = ast.parse('import pytest\n@pytest.fixture(scope="module")\ndef f(): pass\n')
    grouped = ast.parse('pytestmark = [pytest.mark.long(minutes=1), pytest.mark.xdist_group("g")]\n')
    assert _module_scoped(fixture) and not _grouped(fixture) and _grouped(grouped)


@pytest.mark.xdist_group("structure")
def test_groups_reach_the_scheduler(request):
    if not (os.environ.get("PYTEST_XDIST_WORKER") and request.config.getvalue("loadgroup")):
        pytest.skip("runs under pytest-xdist with --dist loadgroup (make test)")
    assert request.node.nodeid.endswith("@structure"), request.node.nodeid
