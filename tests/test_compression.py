"""Pages travel gzip-compressed to a browser that accepts it; the API's JSON and downloads do not (issue 14)."""

from __future__ import annotations

import gzip

from django.urls import reverse

from tests.conftest import client_for


def test_a_page_is_compressed_for_a_browser_that_accepts_it(world):
    client = client_for(world.parent)
    url = reverse("diary:marks", args=[world.school.slug, world.student.pk])
    plain = client.get(url)
    packed = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    html = gzip.decompress(packed.content)
    assert html.startswith(b"<!doctype html>") and b"</html>" in html
    assert len(packed.content) * 3 < len(html)


def test_the_api_and_downloads_are_left_as_they_are(world):
    client = client_for(world.admin)
    api = client.get(f"/api/v1/schools/{world.school.slug}/classes", HTTP_ACCEPT_ENCODING="gzip")
    assert api.status_code == 200 and "Content-Encoding" not in api
    csv = client.get(reverse("roster:student_import_template", args=[world.school.slug]), HTTP_ACCEPT_ENCODING="gzip")
    assert csv.status_code == 200 and "Content-Encoding" not in csv
