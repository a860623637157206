from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from classbook.access.context import resolve_school

router = Router(tags=["schools"])


class SchoolOut(Schema):
    slug: str
    name: str
    short_name: str
    country: str
    language: str
    roles: list[str]


@router.get("/{slug:school}", response=SchoolOut, summary="A school and the caller's roles in it")
def school_detail(request: HttpRequest, school: str) -> dict[str, object]:
    ctx = resolve_school(request.user, school)
    s = ctx.school
    return {
        "slug": s.slug,
        "name": s.name,
        "short_name": s.short_name,
        "country": s.country,
        "language": s.language,
        "roles": sorted(ctx.roles),
    }
