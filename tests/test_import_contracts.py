"""The stricter import contracts of ``.importlinter`` refuse what they promise to refuse.

``tests/test_architecture.py`` runs ``lint-imports`` on the real code (every contract kept). Here the
contracts, read from ``.importlinter`` as they are, are checked against small made-up import graphs
that try to break them: ``access`` importing a read model, a service or a module of a future app;
``core`` importing access or an app; the demo importing a page or a read model; backup importing any app.
"""

from __future__ import annotations

import configparser
from pathlib import Path
from typing import Any

import grimp
import pytest
from importlinter.configuration import configure
from importlinter.contracts.forbidden import ForbiddenContract

pytestmark = pytest.mark.engine_agnostic  # no database: run on SQLite only by scripts/test

ROOT = Path(__file__).resolve().parents[1]
configure()  # import-linter's own adapters (timer, file system), as its command line sets them

MODULES = [
    "classbook",
    "classbook.settings",
    "classbook.api",
    "classbook.access",
    "classbook.access.rules",
    "classbook.access.scopes",
    "classbook.access.templatetags",
    "classbook.access.templatetags.access_tags",
    "classbook.core",
    "classbook.core.models",
    "classbook.core.audit",
    "classbook.journal",
    "classbook.journal.models",
    "classbook.journal.queries",
    "classbook.journal.services",
    "classbook.journal.services.cells",
    "classbook.journal.views",
    "classbook.schools",
    "classbook.schools.models",
    "classbook.schools.scales",
    "classbook.library",  # an app added later
    "classbook.library.models",
    "classbook.library.services",
    "classbook.demo",
    "classbook.demo.bulk",
    "classbook.demo.steps",
    "classbook.demo.steps.journal",
    "classbook.backup",
    "classbook.backup.services",
    "classbook.backup.checks",
]
# What the code does today, all allowed.
ALLOWED = [
    ("classbook.access.rules", "classbook.journal.models"),
    ("classbook.access.scopes", "classbook.schools.models"),
    ("classbook.access.scopes", "classbook.library.models"),
    ("classbook.access.scopes", "classbook.core.models"),
    ("classbook.access.scopes", "classbook.access.rules"),
    ("classbook.access.templatetags.access_tags", "classbook.access.scopes"),
    ("classbook.schools.models", "classbook.schools.scales"),  # models may import more: not access's import
    ("classbook.schools.models", "classbook.core.models"),
    ("classbook.core.audit", "classbook.core.models"),
    ("classbook.demo.steps.journal", "classbook.journal.models"),
    ("classbook.demo.steps.journal", "classbook.journal.services.cells"),
    ("classbook.demo.steps.journal", "classbook.demo.bulk"),
    ("classbook.journal.views", "classbook.journal.queries"),
    ("classbook.backup.services", "classbook.backup.checks"),
]


def contract(contract_id: str) -> ForbiddenContract:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    # As lint-imports reads an INI file: a value over several lines is a list of its lines.
    options: dict[str, Any] = {
        key: value.strip().split("\n") if "\n" in value else value
        for key, value in config[f"importlinter:contract:{contract_id}"].items()
    }
    assert options.pop("type") == "forbidden"
    name = options.pop("name")
    return ForbiddenContract(name=name, session_options={"root_packages": ["classbook"]}, contract_options=options)


def is_kept(contract_id: str, extra: list[tuple[str, str]]) -> bool:
    graph = grimp.ImportGraph()
    for module in MODULES:
        graph.add_module(module)
    for importer, imported in [*ALLOWED, *extra]:
        graph.add_import(importer=importer, imported=imported, line_number=1, line_contents=f"import {imported}")
    return contract(contract_id).check(graph, verbose=False).kept


@pytest.mark.parametrize(
    "contract_id", ["access-depends-on-models-only", "core-imports-no-app", "demo-on-services", "backup-generic"]
)
def test_what_the_code_does_today_keeps_the_contract(contract_id: str) -> None:
    assert is_kept(contract_id, [])


@pytest.mark.parametrize(
    "imported",
    [
        "classbook.journal.queries",
        "classbook.journal.services.cells",
        "classbook.journal.views",
        "classbook.library.services",  # an app nobody listed in .importlinter
        "classbook.schools.scales",  # not models, even if models imports it
        "classbook.demo.bulk",
        "classbook.settings",
        "classbook.journal",  # a package's __init__
    ],
)
def test_access_may_import_only_models_core_and_itself(imported: str) -> None:
    assert not is_kept("access-depends-on-models-only", [("classbook.access.rules", imported)])


@pytest.mark.parametrize(
    "imported", ["classbook.access.scopes", "classbook.access.templatetags.access_tags", "classbook.journal.models"]
)
def test_core_imports_neither_access_nor_any_app(imported: str) -> None:
    assert not is_kept("core-imports-no-app", [("classbook.core.audit", imported)])


def test_core_may_not_reach_access_indirectly_either() -> None:
    assert not is_kept("core-imports-no-app", [("classbook.core.audit", "classbook.settings")])


@pytest.mark.parametrize("imported", ["classbook.journal.queries", "classbook.journal.views"])
def test_the_demo_imports_no_page_or_read_model(imported: str) -> None:
    assert not is_kept("demo-on-services", [("classbook.demo.steps.journal", imported)])


@pytest.mark.parametrize(
    "imported",
    ["classbook.journal.services", "classbook.journal.models", "classbook.library.services", "classbook.core"],
)
def test_backup_imports_no_other_app(imported: str) -> None:
    assert not is_kept("backup-generic", [("classbook.backup.services", imported)])
