"""Read models of the materials page and API (R8.1): the caller's materials, filtered, in one query."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from classbook.access import materials as access
from classbook.access.context import SchoolContext
from classbook.core import uploads
from classbook.materials.models import Material, quota_mb, used_bytes


@dataclass(frozen=True)
class Filters:
    subject: int | None = None
    year_level: int | None = None
    kind: str = ""
    q: str = ""
    audience: str = ""


def search(ctx: SchoolContext, filters: Filters) -> QuerySet[Material]:
    """The materials the caller may read, by subject, year level, kind, audience and words of the title.

    A year level filter also finds materials published to a class of that year level without one of their own."""
    qs = access.visible_materials(ctx).select_related("subject", "year_level", "school_class", "subgroup", "created_by")
    if filters.subject:
        qs = qs.filter(subject_id=filters.subject)
    if filters.year_level:
        qs = qs.filter(
            Q(year_level_id=filters.year_level)
            | Q(year_level__isnull=True, school_class__year_level_id=filters.year_level)
        )
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.audience:
        qs = qs.filter(audience=filters.audience)
    words = "".join(c for c in filters.q if c.isprintable()).split()  # a NUL cannot even be sent to PostgreSQL
    for word in words[:5]:
        # SQLite folds the case of ASCII letters only: the usual spellings of a Cyrillic word are tried too.
        word = word[:100]
        cond = Q()
        for variant in {word, word.lower(), word.capitalize(), word.upper()}:
            cond |= Q(title__icontains=variant)
        qs = qs.filter(cond)
    return qs


@dataclass(frozen=True)
class Storage:
    used: int
    quota: int

    @property
    def used_mb(self) -> int:
        return -(-self.used // uploads.MB)

    @property
    def quota_mb(self) -> int:
        return self.quota // uploads.MB

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.used / self.quota)) if self.quota else 100


def storage(ctx: SchoolContext) -> Storage:
    """The school's used storage and its quota (two queries; the settings row is created the first time)."""
    quota = quota_mb(ctx.school) * uploads.MB
    return Storage(used=used_bytes(ctx.school), quota=quota)
