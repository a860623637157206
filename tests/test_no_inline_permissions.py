"""Permission decisions live in named functions of ``classbook.access``, never inline in a view or service.

A view, an API route, a service or a template that wants to know "may this user do this?" calls a named rule
(``access.journal.may_edit_lesson``, ``access.timetable.may_open_lesson_changes``...; templates use the
``access_tags`` filter of the same name), so the page, the API and the navigation decide with one function
(docs/roles.md, "Named rules"). This test reads the code and fails on a decision written inline on the
access context:

- in Python outside ``classbook/access``: ``<ctx>.has(...)``, ``<ctx>.perms``, any ``<ctx>.is_*``,
  ``<ctx>.may_*`` or ``<ctx>.can_*``, and a role test ``... in <ctx>.roles`` / ``<ctx>.roles & ...``,
  where ``<ctx>`` is any name or attribute spelled ``ctx`` or ``school_ctx``;
- in templates: the same attributes of ``ctx`` and ``... in ctx.roles`` / ``ctx.perms`` /
  ``ctx.homeroom_class_ids`` / ``ctx.child_student_ids``.

Reading the context's data (``ctx.user``, ``ctx.school``, ``sorted(ctx.roles)`` for an API answer,
``ctx.homeroom_class_ids`` to list one's classes) stays allowed: only decisions are refused.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.engine_agnostic  # no database: run on SQLite only by scripts/test

ROOT = Path(__file__).resolve().parent.parent / "classbook"
ACCESS = ROOT / "access"
CONTEXT_NAMES = {"ctx", "school_ctx"}
FLAG_PREFIXES = ("is_", "may_", "can_")

# (path relative to classbook/, line text fragment): decisions that must stay inline, with the reason.
# Keep it short; an entry here is a rule that is not in one place.
ALLOWED: set[tuple[str, str]] = set()


def _is_context(node: ast.AST) -> bool:
    if isinstance(node, ast.Name):
        return node.id in CONTEXT_NAMES
    if isinstance(node, ast.Attribute):
        return node.attr in CONTEXT_NAMES
    return False


def _context_attr(node: ast.AST) -> str | None:
    """``attr`` when ``node`` is ``<ctx>.attr``."""
    if isinstance(node, ast.Attribute) and _is_context(node.value):
        return node.attr
    return None


def inline_decisions(source: str) -> list[tuple[int, str]]:
    """(line, what) for every inline permission decision on the access context in ``source``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        attr = _context_attr(node)
        if attr is not None and (attr in {"has", "perms"} or attr.startswith(FLAG_PREFIXES)):
            found.append((node.lineno, f"ctx.{attr}"))
        if isinstance(node, ast.Compare):
            for op, right in zip(node.ops, node.comparators, strict=True):
                if isinstance(op, ast.In | ast.NotIn) and _context_attr(right) == "roles":
                    found.append((node.lineno, "... in ctx.roles"))
        is_and = isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitAnd)
        if is_and and "roles" in {_context_attr(node.left), _context_attr(node.right)}:  # type: ignore[attr-defined]
            found.append((node.lineno, "ctx.roles & ..."))
    return sorted(set(found))


TEMPLATE_DECISION = re.compile(
    r"\bctx\.(?:has\b|perms\b|is_\w+|may_\w+|can_\w+)"
    r"|\bin\s+ctx\.(?:roles|perms|homeroom_class_ids|child_student_ids|taught_class_ids)\b"
)


def _python_files() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if ACCESS not in p.parents and "migrations" not in p.parts)


def _templates() -> list[Path]:
    return sorted(ROOT.rglob("templates/**/*.html"))


def test_no_inline_permission_decision_in_python():
    problems = []
    for path in _python_files():
        rel = str(path.relative_to(ROOT))
        lines = path.read_text(encoding="utf-8").splitlines()
        for line, what in inline_decisions(path.read_text(encoding="utf-8")):
            text = lines[line - 1].strip()
            if any(rel == p and frag in text for p, frag in ALLOWED):
                continue
            problems.append(f"classbook/{rel}:{line}: {what}: {text}")
    assert not problems, "Permission decisions written inline; name the rule in classbook/access:\n" + "\n".join(
        problems
    )


def test_no_inline_permission_decision_in_templates():
    problems = []
    for path in _templates():
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for match in TEMPLATE_DECISION.finditer(text):
                problems.append(f"{path.relative_to(ROOT.parent)}:{number}: {match.group(0)}")
    assert not problems, "Templates decide with the access_tags filters (the rule of the target page):\n" + "\n".join(
        problems
    )


def test_the_scanner_sees_what_it_must_refuse():
    """The check itself: each shape is caught, data reads are not."""
    refused = """
def view(request, ctx):
    a = ctx.has(Perm.X)
    b = ctx.is_read_only
    c = request.school_ctx.is_staff_member
    d = "teacher" in ctx.roles
    e = ctx.roles & REMARK_ROLES
    f = ctx.may_issue_codes
    g = "view_all_journals" in ctx.perms
"""
    assert [what for _line, what in inline_decisions(refused)] == [
        "ctx.has",
        "ctx.is_read_only",
        "ctx.is_staff_member",
        "... in ctx.roles",
        "ctx.roles & ...",
        "ctx.may_issue_codes",
        "ctx.perms",
    ]
    allowed = """
def view(request, ctx):
    out = {"roles": sorted(ctx.roles), "user": ctx.user.pk, "school": ctx.school.slug}
    mine = classes.filter(pk__in=ctx.homeroom_class_ids)
    ok = journal.may_edit_lesson(ctx, lesson)
"""
    assert inline_decisions(allowed) == []
    assert TEMPLATE_DECISION.search('{% if "teacher" in ctx.roles %}')
    assert TEMPLATE_DECISION.search("{% if ctx.is_staff_member %}")
    assert not TEMPLATE_DECISION.search("{% if ctx|may_open_journals %}{{ ctx.school.slug }}")
