"""An attacker's view of the archive list's progress poll: numbers ``int`` refuses in ``?working=`` are
ignored, never a 500; a teacher who is not a class teacher does not reach the poll."""

from __future__ import annotations

from django.urls import reverse


def test_the_progress_poll_ignores_numbers_int_refuses(world, as_user):
    url = reverse("archive:index", kwargs={"school": world.school.slug})
    response = as_user(world.admin).get(url, {"working": "²,9" + "9" * 5000 + ",12"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Trigger"] == "archive-finished"  # build 12 was seen working and is not any more
    assert as_user(world.teacher).get(url, {"working": "²"}, HTTP_HX_REQUEST="true").status_code == 403
