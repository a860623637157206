"""Personal API tokens of the caller: list, create (the token is returned once), revoke."""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from classbook.api.pagination import ListQuery, Page, Sorts, paginate
from classbook.core.errors import DomainError
from classbook.people import credentials, queries

router = Router(tags=["tokens"])


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The token itself. Shown only in this response; store it safely.")


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=80)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


def _out(row: object) -> dict[str, object]:
    return {k: getattr(row, k) for k in ("id", "name", "prefix", "created_at", "last_used_at", "expires_at")}


TOKEN_SORTS = Sorts("-created_at", created_at="created_at", name="name", last_used_at="last_used_at", id="id")


class TokenQuery(ListQuery):
    sort: str = TOKEN_SORTS.field()


@router.get("", response=Page[TokenOut], summary="The caller's API tokens that are not revoked")
def list_tokens(request: HttpRequest, q: Query[TokenQuery]) -> dict[str, object]:
    return paginate(request, queries.api_tokens(request.user), q, TOKEN_SORTS, _out)  # type: ignore[arg-type]


@router.post("", response={201: TokenCreated}, summary="Create a personal API token (returned once)")
def create_token(request: HttpRequest, payload: TokenIn) -> Status[dict[str, object]]:
    # A token may not mint tokens: a leaked token must not be able to outlive its own revocation.
    if request.headers.get("Authorization", "").lower().startswith("bearer "):
        raise HttpError(403, _("Create API tokens on your profile page or in a browser session, not with a token."))
    row, token = credentials.create_api_token(
        user=request.user,  # type: ignore[arg-type]
        name=payload.name,
        expires_in_days=payload.expires_in_days,
    )
    return Status(201, {**_out(row), "token": token})


@router.delete("/{int:token_id}", response={204: None}, summary="Revoke one of the caller's tokens")
def revoke_token(request: HttpRequest, token_id: int) -> Status[None]:
    try:
        credentials.revoke_api_token(user=request.user, token_id=token_id)  # type: ignore[arg-type]
    except DomainError:
        raise Http404 from None
    return Status(204, None)
