"""An attacker's view of the OneRoster doors: numbers typed into the page's forms and the provider's query
strings that ``int`` refuses ("²", 5,000 digits) are refusals, never a 500; another school's platform is 404."""

from __future__ import annotations

import base64
import io
import zipfile

import pytest
from django.urls import reverse

from classbook.core.errors import DomainError
from classbook.oneroster import csvzip, services
from classbook.oneroster.models import SCOPE_ROSTER_CORE

HOSTILE = ["²", "9" * 5000, "99999999999999999999", "\x00"]


def _token(client, registered) -> str:
    basic = base64.b64encode(f"{registered.client.client_id}:{registered.secret}".encode()).decode()
    response = client.post(
        "/ims/oneroster/oauth2/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    return response.json()["access_token"]


@pytest.mark.parametrize("raw", HOSTILE)
def test_a_hostile_client_number_in_the_revoke_form_is_404(world, as_user, raw):
    url = reverse("oneroster_pages:clients", kwargs={"school": world.school.slug})
    assert as_user(world.director).post(url, {"action": "revoke", "client": raw}).status_code == 404


def test_the_provider_refuses_hostile_paging_with_its_json_error(world, client):
    registered = services.register_client(
        acting_user=world.director, school=world.school, name="LMS", scopes=[SCOPE_ROSTER_CORE]
    )
    token = _token(client, registered)
    for raw in HOSTILE:
        for name in ("limit", "offset"):
            response = client.get(
                "/ims/oneroster/rostering/v1p2/users", {name: raw}, HTTP_AUTHORIZATION=f"Bearer {token}"
            )
            assert response.status_code == 400, (name, raw)
            assert response.json()["imsx_codeMajor"] == "failure"


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buffer.getvalue()


def test_a_zip_unpacking_to_more_than_the_total_cap_is_refused_before_reading(monkeypatch):
    monkeypatch.setattr(csvzip, "MAX_TOTAL_BYTES", 3 * 1024 * 1024)
    bomb = _zip({f"part{n}.csv": b"a" * (1024 * 1024) for n in range(5)})  # 5 MB unpacked, a few KB packed
    assert len(bomb) < 100_000
    with pytest.raises(DomainError) as refused:
        csvzip.read_zip(bomb)
    assert refused.value.code == "too_large"


def test_a_zip_of_too_many_files_is_refused():
    with pytest.raises(DomainError) as refused:
        csvzip.read_zip(_zip({f"f{n}.csv": b"x\\n" for n in range(csvzip.MAX_MEMBERS + 1)}))
    assert refused.value.code == "too_large"
