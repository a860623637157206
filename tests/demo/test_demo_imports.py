"""The demo generator uses the apps' public surface only: no private names of other modules.

Import-linter checks which modules import which ("demo-on-services" in ``.importlinter``), but it
cannot see names, so this test reads ``classbook/demo/**.py`` with ``ast`` and fails on

- ``from x import _name`` (a private name of another module, the demo's own modules included),
- ``module._name`` where ``module`` is a name bound to an imported module (``import x as m`` or
  ``from x import m``), also down a chain (``classbook.journal.services._check``),
- importing a private module (``classbook.x._internal``).

Attributes of classes and instances (Django's documented ``Model._meta``) are not modules and are not
checked. All the demo's code lives in ``classbook/demo``: no app keeps a ``demo.py`` of its own. And the
steps write only through services or the documented bulk writers of ``classbook.demo.bulk``: no
``save()``, ``create()``, queryset ``update()``/``delete()``, ``bulk_create``/``bulk_update`` or SQL
of their own.
"""

from __future__ import annotations

import ast
import importlib
import types
from pathlib import Path

import pytest

pytestmark = pytest.mark.engine_agnostic  # no database: run on SQLite only by scripts/test

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "classbook" / "demo"


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, level: int, package: str) -> str:
    if not level:
        return module
    base = package.rsplit(".", level - 1)[0] if level > 1 else package
    return f"{base}.{module}" if module else base


def _is_module(dotted: str) -> bool:
    try:
        importlib.import_module(dotted)
    except ImportError:
        return False
    return True


def private_uses(source: str, module: str, *, is_package: bool = False) -> list[str]:
    """Every use of another module's private name in ``source`` (the code of ``module``), as text."""
    tree = ast.parse(source)
    package = module if is_package else module.rpartition(".")[0]
    found: list[str] = []
    modules: dict[str, types.ModuleType] = {}  # local name -> the module it is bound to

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if any(_private(part) for part in alias.name.split(".")):
                    found.append(f"line {node.lineno}: import {alias.name}")
                    continue
                if alias.asname:
                    modules[alias.asname] = importlib.import_module(alias.name)
                else:
                    root = alias.name.split(".")[0]
                    importlib.import_module(alias.name)
                    modules[root] = importlib.import_module(root)
        elif isinstance(node, ast.ImportFrom):
            source_module = _resolve(node.module or "", node.level, package)
            if any(_private(part) for part in source_module.split(".")):
                found.append(f"line {node.lineno}: from {source_module} import ...")
                continue
            for alias in node.names:
                if source_module == module:
                    continue
                if _private(alias.name):
                    found.append(f"line {node.lineno}: from {source_module} import {alias.name}")
                    continue
                if source_module.split(".")[0] == "classbook" and _is_module(f"{source_module}.{alias.name}"):
                    modules[alias.asname or alias.name] = importlib.import_module(f"{source_module}.{alias.name}")

    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        chain: list[str] = []
        value: ast.expr = node
        while isinstance(value, ast.Attribute):
            chain.append(value.attr)
            value = value.value
        if not isinstance(value, ast.Name) or value.id not in modules:
            continue
        obj: object = modules[value.id]
        path = value.id
        for attr in reversed(chain):
            if not isinstance(obj, types.ModuleType):
                break
            path = f"{path}.{attr}"
            if _private(attr):
                found.append(f"line {node.lineno}: {path}")
                break
            obj = getattr(obj, attr, None)
    return sorted(set(found))


def demo_files() -> list[Path]:
    return sorted(DEMO.rglob("*.py"))


@pytest.mark.parametrize("path", demo_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_demo_code_uses_no_private_name_of_another_module(path: Path) -> None:
    uses = private_uses(path.read_text(encoding="utf-8"), _module_name(path), is_package=path.name == "__init__.py")
    assert not uses, f"{path.relative_to(ROOT)} uses private names of other modules: {uses}"


@pytest.mark.parametrize(
    "source",
    [
        "from classbook.journal.services.cells import _check_one_entry",
        "from classbook.demo.bulk import _anything",
        "from .bulk import _anything",
        "from classbook.schools import services\nservices._check_period(None)",
        "import classbook.schools.services as s\ns._audit",
        "import classbook.schools.services\nclassbook.schools.services._jsonable(1)",
        "import classbook.demo._hidden",
    ],
)
def test_the_check_catches_every_form_of_private_use(source: str) -> None:
    assert private_uses(source, "classbook.demo.steps.example")


def test_the_check_allows_own_privates_public_names_and_model_meta() -> None:
    source = (
        "from classbook.schools import services\n"
        "from classbook.journal.models import Lesson\n"
        "services.create_school\n"
        "Lesson._meta.get_field('topic')\n"
        "def _own():\n    return _own\n"
    )
    assert private_uses(source, "classbook.demo.steps.example") == []


def test_no_app_keeps_demo_code_outside_the_demo_package() -> None:
    stray = [p.relative_to(ROOT) for p in (ROOT / "classbook").glob("*/demo.py")]
    assert not stray, f"demo steps belong in classbook/demo/steps/: {stray}"


WRITES = {
    "save",
    "delete",
    "create",
    "get_or_create",
    "update_or_create",
    "bulk_create",
    "bulk_update",
    "execute",
    "executemany",
    "raw",
}
QUERYSET = {"objects", "_default_manager", "filter", "exclude", "all"}


def direct_writes(source: str) -> list[str]:
    """Calls in ``source`` that write rows without a service or a writer of ``classbook.demo.bulk``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name = node.func.attr
        chain, value = [], node.func.value
        while isinstance(value, ast.Attribute | ast.Call):
            if isinstance(value, ast.Call):
                value = value.func
                continue
            chain.append(value.attr)
            value = value.value
        if name in WRITES or (name in {"update", "delete"} and QUERYSET & set(chain)):
            found.append(f"line {node.lineno}: .{name}()")
    return found


@pytest.mark.parametrize("path", sorted((DEMO / "steps").glob("*.py")), ids=lambda p: p.name)
def test_steps_write_only_through_services_or_the_bulk_writers(path: Path) -> None:
    writes = direct_writes(path.read_text(encoding="utf-8"))
    assert not writes, f"{path.relative_to(ROOT)} writes directly (use a service or classbook.demo.bulk): {writes}"


@pytest.mark.parametrize(
    "source",
    [
        "school.save(update_fields=['name'])",
        "Lesson.objects.filter(pk=1).update(topic='x')",
        "Lesson.objects.create(topic='x')",
        "Mark.objects.bulk_create([])",
        "SchoolClass.objects.bulk_update([], ['name'])",
        "EducationAuthority.objects.get_or_create(name='x')",
        "cursor.executemany('INSERT', [])",
        "Remark.objects.filter(pk=1).delete()",
    ],
)
def test_the_write_check_catches_direct_writes(source: str) -> None:
    assert direct_writes(source)


def test_the_write_check_allows_reads_sets_and_the_writers() -> None:
    source = (
        "Lesson.objects.filter(school=s).values_list('pk', flat=True)\n"
        "seen.add(1)\n"
        "b.bulk(Mark, marks)\n"
        "insert_rows(b, Mark, fields, rows)\n"
        "update_objects(Lesson, lessons, ['conducted_by'])\n"
        "services.generate_lessons(acting_user=deputy, school=school, start=a, end=z)\n"
    )
    assert direct_writes(source) == []
