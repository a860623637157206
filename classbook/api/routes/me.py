from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from classbook.access.context import user_schools

router = Router(tags=["me"])


class SchoolRef(Schema):
    slug: str
    name: str


class MeOut(Schema):
    id: int
    username: str
    full_name: str
    language: str
    schools: list[SchoolRef]


@router.get("", response=MeOut, summary="The current user and their schools")
def me(request: HttpRequest) -> dict[str, object]:
    user = request.user
    return {
        "id": user.pk,
        "username": user.get_username(),
        "full_name": user.full_name,  # type: ignore[union-attr]
        "language": user.language,  # type: ignore[union-attr]
        "schools": [{"slug": s.slug, "name": s.name} for s in user_schools(user)],
    }
