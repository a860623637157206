from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema

from classbook.access.context import user_schools
from classbook.core.errors import DomainError
from classbook.people import credentials

router = Router(tags=["me"])


class SchoolRef(Schema):
    slug: str
    name: str


class MeOut(Schema):
    id: int
    username: str
    full_name: str
    language: str
    two_factor: bool
    schools: list[SchoolRef]


class MeIn(Schema):
    language: str = Field(
        description="Interface language: " + ", ".join(code for code, _name in settings.LANGUAGES),
        json_schema_extra={"enum": [code for code, _name in settings.LANGUAGES]},  # "Unknown language." else
    )


def _me(user: object) -> dict[str, object]:
    return {
        "id": user.pk,  # type: ignore[attr-defined]
        "username": user.get_username(),  # type: ignore[attr-defined]
        "full_name": user.full_name,  # type: ignore[attr-defined]
        "language": user.language,  # type: ignore[attr-defined]
        "two_factor": credentials.has_confirmed_totp(user),  # type: ignore[arg-type]
        "schools": [{"slug": s.slug, "name": s.name} for s in user_schools(user)],  # type: ignore[arg-type]
    }


@router.get("", response=MeOut, summary="The current user and their schools")
def me(request: HttpRequest) -> dict[str, object]:
    return _me(request.user)


@router.patch("", response=MeOut, summary="Change the current user's interface language")
def update_me(request: HttpRequest, payload: MeIn) -> dict[str, object]:
    if payload.language not in dict(settings.LANGUAGES):
        raise DomainError(_("Unknown language."), field="language")
    credentials.set_user_language(user=request.user, language=payload.language)  # type: ignore[arg-type]
    return _me(request.user)
