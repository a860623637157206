"""Read models of portfolios (R8.2) for the pages, the PDF and the API: scoped by ``access.portfolios``."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from django.db.models import Q

from classbook.access import portfolios as rules
from classbook.access.context import SchoolContext
from classbook.access.scopes import get_or_404
from classbook.core.collation import name_order
from classbook.people.models import Enrolment, Student, current_enrolment_q
from classbook.portfolios.models import Entry, Project

MAX_LISTED = 500


@dataclass
class Portfolio:
    """One student's or one project's portfolio as the user sees it."""

    entries: list[Entry]
    rights: rules.Rights
    student: Student | None = None
    project: Project | None = None
    members: list[Student] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)

    @property
    def title(self) -> str:
        if self.project is not None:
            return self.project.title
        return self.student.user.full_name if self.student is not None else ""

    @property
    def rows(self) -> list[tuple[Entry, bool, bool]]:
        """Each entry with whether the user may remove it and ask to share it (for the page)."""
        return [(e, self.rights.may_remove(e), self.rights.may_request(e)) for e in self.entries]

    @property
    def fingerprint(self) -> str:
        """The code printed on every page of the PDF: the start of the SHA-256 of what it lists, so a printed copy
        can be compared with the portfolio as it is now (the page shows the same code)."""
        rows = [[e.pk, e.kind, e.title, e.day.isoformat(), e.description, e.file_name, e.sharing] for e in self.entries]
        digest = hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()
        return digest[:10].upper()


def student_portfolio(ctx: SchoolContext, student_id: object) -> Portfolio:
    """The entries of a student the user reads (404 for a student outside their scope), the rights, and the
    projects the student is a member of that the user sees. Four queries."""
    student = get_or_404(rules.portfolio_students(ctx), pk=student_id)
    entries = list(rules.visible_entries(ctx).filter(student=student).order_by("-day", "-pk"))
    members = Project.members.through.objects.filter(student_id=student.pk).values("project_id")
    projects = list(rules.visible_projects(ctx).filter(pk__in=members).order_by("-created_at", "-pk"))
    return Portfolio(entries=entries, rights=rules.student_rights(ctx, student), student=student, projects=projects)


def project_portfolio(ctx: SchoolContext, project_id: object) -> Portfolio:
    """A project's entries the user reads, its members and the rights. Four queries."""
    project = get_or_404(rules.visible_projects(ctx), pk=project_id)
    entries = list(rules.visible_entries(ctx).filter(project=project).order_by("-day", "-pk"))
    members = list(
        Student.objects.filter(pk__in=rules.member_ids(project)).select_related("user").order_by(*name_order("user__"))
    )
    rights = rules.project_rights(ctx, project, {m.pk for m in members})
    return Portfolio(entries=entries, rights=rights, project=project, members=members)


@dataclass
class Index:
    students: list[Student]
    projects: list[Project]


def index(ctx: SchoolContext) -> Index:
    """The portfolios the user opens: their own and their children's, the students of the class they lead, the
    students with entries shared with them, and the projects they see. Two queries."""
    family = rules.family_ids(ctx)
    with_entries = rules.visible_entries(ctx).filter(student__isnull=False).values("student_id")
    cond = Q(pk__in=family) | Q(pk__in=with_entries)
    if ctx.homeroom_class_ids:
        homeroom = Enrolment.objects.filter(
            current_enrolment_q(ctx.school.pk), school_class_id__in=ctx.homeroom_class_ids
        ).values("student_id")
        cond |= Q(pk__in=homeroom)
    students = list(rules.portfolio_students(ctx).filter(cond).order_by(*name_order("user__"))[:MAX_LISTED])
    projects = list(rules.visible_projects(ctx).order_by("-created_at", "-pk")[:MAX_LISTED])
    return Index(students=students, projects=projects)
