"""Checks that ``manage.py restore`` runs after a restore, registered by the apps that know their data.

An app registers a check in its ``AppConfig.ready()``::

    from classbook.backup import checks

    def archive_chain(context: checks.RestoreContext) -> list[str]:
        ...  # read through Model.objects.using(context.using); files under context.media_root
        return []  # or one line per problem found

    checks.register("archive chain", archive_chain)

A check gets the restored database's connection alias and media folder, reads what it needs and returns
the problems it found (an empty list: passed). An exception counts as a failed check with its message.
Checks only read: a restore that a check fails is reported (exit code 2) and left for the operator.
Registering a name again replaces the earlier check (``ready()`` may run more than once in tests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class RestoreContext:
    using: str  # the database alias of the restored database
    media_root: Path  # where the media files were restored


Check = Callable[[RestoreContext], Iterable[str]]


@dataclass
class CheckResult:
    name: str
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


_checks: dict[str, Check] = {}


def register(name: str, check: Check) -> None:
    _checks[name] = check


def unregister(name: str) -> None:
    _checks.pop(name, None)


def registered() -> list[str]:
    return list(_checks)


def run_all(context: RestoreContext) -> list[CheckResult]:
    results = []
    for name, check in list(_checks.items()):
        try:
            problems = [str(p) for p in check(context)]
        except Exception as exc:  # a broken check is a failed check, never a crashed restore
            problems = [f"{type(exc).__name__}: {exc}"]
        results.append(CheckResult(name, problems))
    return results
