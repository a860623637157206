"""Account pages and the token/me API read through scopes or queries and write through credentials only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
THIN_MODULES = ["classbook/people/views.py", "classbook/api/routes/tokens.py", "classbook/api/routes/me.py"]
WRITES = {"save", "create", "update", "delete", "get_or_create", "update_or_create", "bulk_create"}


def _manager_uses_and_writes(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in {"objects", "_default_manager"}:
            found.append((node.lineno, node.attr))
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr == "save" or (node.func.attr in WRITES and isinstance(node.func.value, ast.Call)):
            found.append((node.lineno, node.func.attr))
    return found


@pytest.mark.parametrize("module", THIN_MODULES)
def test_thin_modules_neither_query_managers_nor_write_models(module):
    assert _manager_uses_and_writes(ROOT / module) == []
