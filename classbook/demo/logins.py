"""The demo logins, read back from the database (``manage.py demo_logins``, tests).

The generator creates the demo logins first in their role, so each is the first
membership of its role by id; this survives renamed usernames (e.g. ``admin2`` when an
``admin`` existed before the demo was seeded).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.hashers import check_password
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from classbook.demo.build import DEMO_PASSWORD
from classbook.people.models import AuthorityViewer, Membership, Role, User
from classbook.schools.models import School, SchoolClass


@dataclass(frozen=True)
class DemoLogin:
    key: str  # admin, director, deputy, secretary, teacher, student, parent, viewer
    role: str
    username: str
    password: str
    hint: str


def _first_member(school: School, role: str) -> User | None:
    m = (
        Membership.objects.filter(school=school, role=role, is_active=True)
        .select_related("user")
        .order_by("id")
        .first()
    )
    return m.user if m else None


def find_demo_logins(school: School) -> list[DemoLogin]:
    found: list[tuple[str, str, User, str]] = []
    plain = [
        ("admin", Role.ADMIN, _("accounts, activation codes, reference data, audit log")),
        ("director", Role.DIRECTOR, _("the whole school read-only: all classes, journals, reports")),
        ("deputy", Role.DEPUTY, _("journals of all classes, curriculum and teachers' workload")),
        ("secretary", Role.SECRETARY, _("students' personal files, consents, class lists")),
    ]
    for key, role, hint in plain:
        user = _first_member(school, role)
        if user:
            found.append((key, str(Role(role).label), user, hint))

    teacher = _first_member(school, Role.TEACHER)
    if teacher:
        homeroom = SchoolClass.objects.filter(school=school, class_teacher=teacher).order_by("id").first()
        hint = _("class teacher of %(class)s (all its journals, read-only) who also teaches other classes") % {
            "class": homeroom.name if homeroom else "-"
        }
        found.append(("teacher", str(Role.TEACHER.label), teacher, hint))

    student = _first_member(school, Role.STUDENT)
    if student:
        enrolment = student.student.enrolments.select_related("school_class").order_by("-start").first()
        hint = _("student of %(class)s: own marks, homework and timetable (the diary)") % {
            "class": enrolment.school_class.name if enrolment else "-"
        }
        found.append(("student", str(Role.STUDENT.label), student, hint))

    parent_membership = (
        Membership.objects.filter(school=school, role=Role.PARENT, is_active=True)
        .annotate(children=Count("user__guardian_links", filter=Q(user__guardian_links__school=school)))
        .filter(children__gte=2)
        .select_related("user")
        .order_by("id")
        .first()
    )
    if parent_membership:
        found.append(
            (
                "parent",
                str(Role.PARENT.label),
                parent_membership.user,
                _("parent of two children in different classes: sees only them"),
            )
        )

    viewer = AuthorityViewer.objects.filter(authority__schools=school).select_related("user").order_by("id").first()
    if viewer:
        found.append(
            ("viewer", _("Education authority viewer"), viewer.user, _("all demo schools of the authority, read-only"))
        )

    # All demo users share one hash: check it once per distinct hash, not once per user.
    verdict: dict[str, bool] = {}
    logins = []
    for key, role_label, user, hint in found:
        if user.password not in verdict:
            verdict[user.password] = check_password(DEMO_PASSWORD, user.password)
        password = DEMO_PASSWORD if verdict[user.password] else _("(changed)")
        logins.append(DemoLogin(key=key, role=role_label, username=user.username, password=password, hint=hint))
    return logins
