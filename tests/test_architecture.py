"""Architecture rules a machine checks, so they survive (STYLE.md "Tenancy and access", docs/architecture.md).

1. Pages and API routes never query school-owned models directly: they get rows from
   ``classbook.access.scopes`` (scoped to the school and the user) and write through services.
2. Every school-owned model carries a non-null, indexed ``school`` and its unique constraints are per school.
3. The import-linter layering contracts are kept, and the models match their migrations.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models

from classbook.core.models import SchoolOwned
from classbook.schools.models import School

# The tests that read only the code and the models' definitions: scripts/test runs them on SQLite only.
engine_agnostic = pytest.mark.engine_agnostic

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "classbook"
MANAGER_ATTRIBUTES = {"objects", "_default_manager", "_base_manager"}


# --- 1. views and API routes get school-owned rows only through access scopes ------------------------


def page_and_api_modules() -> list[Path]:
    """Found by pattern, not listed, so modules added later are checked too."""
    patterns = ["**/views.py", "**/*_views.py", "**/views/*.py", "api/routes/*.py"]
    found = {path for pattern in patterns for path in PACKAGE.glob(pattern)}
    return sorted(p for p in found if "migrations" not in p.parts)


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def imported_names(tree: ast.Module, module: str) -> dict[str, str]:
    """Local name -> dotted path, for every import in the file (also those inside functions)."""
    package = module.rsplit(".", 1)[0]
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")
                parent = parent[: len(parent) - (node.level - 1)]
                base = ".".join([*parent, base]) if base else ".".join(parent)
            for alias in node.names:
                names[alias.asname or alias.name] = f"{base}.{alias.name}"
    return names


def dotted(node: ast.expr) -> str | None:
    """``a.b.C`` for a chain of names, None for anything computed (calls, subscripts, ...)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def resolve(path: str) -> object:
    """Import the longest importable module prefix of ``path`` and walk the rest as attributes."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(path)


def direct_queries(path: Path, module: str | None = None) -> list[str]:
    """``file:line`` descriptions of every manager access on a school-owned (or unknowable) model."""
    module = module or module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = imported_names(tree, module)
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    problems = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and node.attr in MANAGER_ATTRIBUTES):
            continue
        where = f"{shown}:{node.lineno}"
        target = dotted(node.value)
        if target is None or target.split(".")[0] not in names:
            problems.append(f"{where}: .{node.attr} on {ast.unparse(node.value)} (cannot tell which model)")
            continue
        head, _, rest = target.partition(".")
        try:
            model = resolve(".".join(filter(None, [names[head], rest])))
        except (ImportError, AttributeError):
            problems.append(f"{where}: .{node.attr} on {target} (cannot resolve)")
            continue
        if not (isinstance(model, type) and issubclass(model, models.Model)):
            problems.append(f"{where}: .{node.attr} on {target}, which is not a model")
        elif issubclass(model, SchoolOwned):
            problems.append(f"{where}: {model.__name__}.{node.attr} (school-owned)")
    return problems


@engine_agnostic
def test_the_scan_finds_the_page_and_api_modules():
    found = {module_name(p) for p in page_and_api_modules()}
    assert {"classbook.schools.views", "classbook.people.views", "classbook.api.routes.schools"} <= found


@engine_agnostic
def test_the_scan_catches_direct_queries_and_allows_tenant_free_models(tmp_path):
    """The checker itself must be able to fail (a test that cannot fail is a defect)."""
    bad = tmp_path / "probe_views.py"
    bad.write_text(
        "from classbook.people.models import Student, User\n"
        "from classbook.schools import models as sm\n"
        "def v(request, model):\n"
        "    from classbook.journal.models import Mark\n"
        "    Student.objects.all()\n"
        "    sm.SchoolClass._default_manager.all()\n"
        "    Mark.objects.all()\n"
        "    model.objects.all()\n"
        "    User.objects.all()\n"
        "    sm.School.objects.all()\n",
        encoding="utf-8",
    )
    problems = direct_queries(bad, module="classbook.schools.probe_views")
    assert [p.split(":", 2)[1] for p in problems] == ["5", "6", "7", "8"]
    assert "Student.objects (school-owned)" in problems[0]
    assert "cannot tell which model" in problems[3]


@engine_agnostic
def test_views_and_api_routes_do_not_query_school_owned_models_directly():
    modules = page_and_api_modules()
    problems = [problem for path in modules for problem in direct_queries(path)]
    assert not problems, (
        "Views and API routes must not query school-owned models through their managers: a forgotten "
        "school or user filter leaks another school's or another child's data. Get rows from "
        "classbook.access.scopes (e.g. scopes.students(ctx), scopes.get_or_404(qs, pk=...)) - add a scope "
        "there if none fits - and write through the app's services. Found:\n  " + "\n  ".join(problems)
    )


# --- 2. school-owned models: the school column and per-school uniqueness ----------------------------

# (model label, constraint or field name) -> why it need not include the school.
UNIQUE_EXCEPTIONS = {
    ("people.activationcode", "code_hash"): "a hash of a random secret, looked up before the school is known",
    ("people.student", "user"): "one login is one student record; a move to another school moves the record",
}


def school_owned_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if issubclass(m, SchoolOwned)]


def is_school_scoped(model: type[models.Model], field_name: str) -> bool:
    """The school itself, or a foreign key to a school-owned row (which carries the school)."""
    field = model._meta.get_field(field_name)
    if field_name == "school":
        return True
    related = getattr(field, "related_model", None)
    is_foreign_key = bool(field.many_to_one or field.one_to_one)
    return is_foreign_key and isinstance(related, type) and issubclass(related, SchoolOwned)


@engine_agnostic
def test_school_owned_models_are_found():
    labels = {m._meta.label_lower for m in school_owned_models()}
    assert {"people.student", "schools.schoolclass", "people.guardianlink"} <= labels


@engine_agnostic
@pytest.mark.parametrize("model", school_owned_models(), ids=lambda m: m._meta.label_lower)
def test_school_owned_model_has_a_non_null_indexed_school(model):
    field = model._meta.get_field("school")
    assert field.many_to_one and field.related_model is School
    assert not field.null, f"{model._meta.label}.school must not be null"
    leading_index = any(
        list(index.fields)[:1] == ["school"] for index in model._meta.indexes if getattr(index, "fields", None)
    )
    assert field.db_index or leading_index, f"{model._meta.label}.school must be indexed"


def unique_sets(model: type[models.Model]) -> list[tuple[str, list[str]]]:
    """Every uniqueness rule of the model as (name, fields): constraints, unique_together, unique fields."""
    rules = [(c.name, list(c.fields)) for c in model._meta.constraints if isinstance(c, models.UniqueConstraint)]
    rules += [("unique_together", list(fields)) for fields in model._meta.unique_together]
    rules += [(f.name, [f.name]) for f in model._meta.local_fields if f.unique and not f.primary_key]
    return rules


@engine_agnostic
@pytest.mark.parametrize("model", school_owned_models(), ids=lambda m: m._meta.label_lower)
def test_unique_rules_of_school_owned_models_are_per_school(model):
    label = model._meta.label_lower
    for name, fields in unique_sets(model):
        if (label, name) in UNIQUE_EXCEPTIONS:
            continue
        assert fields, f"{label}.{name}: an expression constraint; list it in UNIQUE_EXCEPTIONS with a reason"
        assert any(is_school_scoped(model, f) for f in fields), (
            f"{label}.{name} {fields} would make values unique across all schools: include `school` "
            "(or a school-owned foreign key), or list it in UNIQUE_EXCEPTIONS with the reason"
        )


@engine_agnostic
def test_unique_exceptions_still_exist():
    """A stale exception would silently allow a new global constraint of the same name."""
    current = {(m._meta.label_lower, name) for m in school_owned_models() for name, _ in unique_sets(m)}
    assert set(UNIQUE_EXCEPTIONS) <= current


# --- 3. layering and migrations --------------------------------------------------------------------


@engine_agnostic
def test_import_linter_contracts_are_kept():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    if not lint_imports.exists():
        pytest.fail(f"lint-imports not found next to {sys.executable}; install the dev extras")
    result = subprocess.run(  # noqa: S603 - our own tool, fixed arguments
        [str(lint_imports), "--config", str(ROOT / ".importlinter"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


@pytest.mark.django_db
def test_models_and_migrations_agree():
    try:
        call_command("makemigrations", "--check", "--dry-run", verbosity=0)
    except SystemExit as exc:
        pytest.fail(f"Models changed without a migration (exit {exc.code}): run python manage.py makemigrations")


def direct_writes(path: Path) -> list[str]:
    """``file:line`` of every ``.save()``/``.delete()`` call, or ``create``/``update``/... on a queryset chain."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    problems = []
    decorators = {
        id(d) for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) for d in n.decorator_list
    }
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)) or id(node) in decorators:
            continue
        attr = node.func.attr
        if attr in {"save", "delete"} or (attr in QUERYSET_WRITES and isinstance(node.func.value, ast.Call)):
            problems.append(f"{shown}:{node.lineno}: .{attr}() — write through a service instead")
    return problems


QUERYSET_WRITES = {"create", "update", "get_or_create", "update_or_create", "bulk_create", "bulk_update"}


@engine_agnostic
def test_the_write_scan_can_fail(tmp_path):
    bad = tmp_path / "probe_views.py"
    bad.write_text("def v(obj, qs):\n    obj.save()\n    qs.filter(a=1).update(a=2)\n    obj.delete()\n")
    assert len(direct_writes(bad)) == 3


@engine_agnostic
@pytest.mark.parametrize("path", page_and_api_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_pages_and_api_routes_write_only_through_services(path):
    problems = direct_writes(path)
    assert not problems, "Pages and API routes change state only by calling services:\n" + "\n".join(problems)
