"""The operators' ``open_year`` command shares the wizard's service (R4.3)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from classbook.core.models import AuditEntry
from classbook.people.models import Enrolment
from classbook.schools.models import AcademicYear


def run(*args):
    out = StringIO()
    call_command("open_year", *args, stdout=out)
    return out.getvalue()


def test_dry_run_then_open_then_refuse_a_second_time(scene):
    w = scene.world
    text = run("--school", "lyceum-1", "--by", "deputy", "--dry-run")
    assert "5-А -> 6-А" in text and "Graduating: 11-А (1)" in text and "nothing was written" in text
    assert not AcademicYear.objects.filter(name="2027/2028").exists()

    text = run("--school", "lyceum-1", "--by", "deputy", "--hold-back", str(w.student.pk), "--first-classes", "")
    assert "Opened 2027/2028" in text
    year = AcademicYear.objects.get(name="2027/2028")
    assert (year.start.isoformat(), year.end.isoformat()) == ("2027-09-01", "2028-06-30")
    assert Enrolment.objects.get(student=w.student, school_class__year=year).school_class.name == "5-А"
    assert AuditEntry.objects.get(action="schools.year.opened").actor == w.deputy

    # The defaults now follow the new year; the same year named again is refused.
    with pytest.raises(CommandError, match="exists already"):
        run(
            "--school",
            "lyceum-1",
            "--by",
            "deputy",
            "--name",
            "2027/2028",
            "--start",
            "2027-09-01",
            "--end",
            "2028-06-30",
        )


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--school", "nowhere", "--by", "deputy"], "no active school"),
        (["--school", "lyceum-1", "--by", "teacher"], "Only the administration"),
        (["--school", "lyceum-1", "--by", "foreignadmin"], "Only the administration"),
        (["--school", "lyceum-1", "--by", "deputy", "--start", "2028-07-01"], "after the first day"),
        (["--school", "lyceum-1", "--by", "deputy", "--hold-back", "x"], "student ids"),
    ],
)
def test_refusals(scene, args, text):
    with pytest.raises(CommandError, match=text):
        run(*args)
    assert not AcademicYear.objects.filter(name="2027/2028").exists()


def test_hold_back_from_a_file(scene, tmp_path):
    w = scene.world
    listed = tmp_path / "repeaters.txt"
    listed.write_text(f"{w.other_student.user.full_name}\n", encoding="utf-8")
    text = run("--school", "lyceum-1", "--by", "deputy", "--hold-back-file", str(listed), "--dry-run")
    assert f"{w.other_student.user.full_name} -> 5-Б" in text
    listed.write_text("Nobody Here\n", encoding="utf-8")
    with pytest.raises(CommandError, match="not current students: Nobody Here"):
        run("--school", "lyceum-1", "--by", "deputy", "--hold-back-file", str(listed))
    with pytest.raises(CommandError, match="Cannot read"):
        run("--school", "lyceum-1", "--by", "deputy", "--hold-back-file", str(tmp_path / "missing.txt"))
