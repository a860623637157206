"""Roster pages and the roster API read through access scopes and write through services only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
THIN_MODULES = ["classbook/roster/views.py", "classbook/api/routes/roster.py"]
WRITES = {"save", "create", "update", "delete", "get_or_create", "update_or_create", "bulk_create"}


def _attribute_calls(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in {"objects", "_default_manager"}:
            found.append((node.lineno, node.attr))
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        # ``obj.save()`` anywhere, or a write on a queryset expression such as ``scopes.x(ctx).update(...)``.
        if node.func.attr == "save" or (node.func.attr in WRITES and isinstance(node.func.value, ast.Call)):
            found.append((node.lineno, node.func.attr))
    return found


@pytest.mark.parametrize("module", THIN_MODULES)
def test_thin_modules_neither_query_managers_nor_write_models(module):
    assert _attribute_calls(ROOT / module) == []
