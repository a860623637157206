"""Which role may do what, as one table (R1.1-R1.8). Relationship rules live in ``context.py``."""

from __future__ import annotations

from enum import StrEnum

from classbook.people.models import Role


class Perm(StrEnum):
    # read
    VIEW_SCHOOL_DIRECTORY = "view_school_directory"  # staff list, classes, subjects, rooms
    VIEW_ALL_STUDENTS = "view_all_students"  # every student's record in the school
    VIEW_CONTACTS = "view_contacts"  # home addresses and phone numbers of students and guardians
    VIEW_ALL_JOURNALS = "view_all_journals"  # read-only control of every journal (R1.4, R6.10)
    VIEW_AUDIT_LOG = "view_audit_log"
    # manage
    MANAGE_SCHOOL_SETTINGS = "manage_school_settings"  # name, policies, 2FA, deadlines
    MANAGE_CALENDAR = "manage_calendar"  # years, periods, holidays
    MANAGE_STRUCTURE = "manage_structure"  # year levels, classes, subgroups, subjects, rooms, scales, assignments
    MANAGE_STAFF = "manage_staff"  # staff accounts and their roles (R1.7, R1.8)
    MANAGE_STUDENTS = "manage_students"  # students, enrolments, guardians (R7.1)
    MANAGE_CONSENTS = "manage_consents"  # personal-data consents (R7.4)
    ISSUE_STAFF_CODES = "issue_staff_codes"  # activation codes for staff (R1.2)
    ISSUE_FAMILY_CODES = "issue_family_codes"  # for students and parents of any class (R1.2)
    MANAGE_TIMETABLE = "manage_timetable"  # bells, timetable, lesson generation, substitutions (R4.1, R4.2)
    VIEW_ALL_PLANS = "view_all_plans"  # every calendar-thematic plan and the programme completion (R3.1, R3.2)
    APPROVE_PLANS = "approve_plans"  # approve or return plans, set the plans' deadline (R3.1)
    PUBLISH_ANNOUNCEMENTS = "publish_announcements"  # school, year-level, staff and any class's announcements (R5.4)
    MODERATE_FORUM = "moderate_forum"  # open forum topics, hide replies (R5.4)
    ISSUE_CERTIFICATES = "issue_certificates"  # the book of certificates issued: record and correct (R7.3)


ROLE_PERMS: dict[str, frozenset[Perm]] = {
    Role.ADMIN: frozenset(Perm),
    Role.DIRECTOR: frozenset(
        {
            Perm.VIEW_SCHOOL_DIRECTORY,
            Perm.VIEW_ALL_STUDENTS,
            Perm.VIEW_CONTACTS,
            Perm.VIEW_ALL_JOURNALS,
            Perm.VIEW_AUDIT_LOG,
            Perm.MANAGE_SCHOOL_SETTINGS,
            Perm.MANAGE_CALENDAR,
            Perm.MANAGE_STRUCTURE,
            Perm.MANAGE_STAFF,
            Perm.MANAGE_TIMETABLE,
            Perm.VIEW_ALL_PLANS,
            Perm.APPROVE_PLANS,
            Perm.PUBLISH_ANNOUNCEMENTS,
            Perm.MODERATE_FORUM,
            Perm.ISSUE_CERTIFICATES,
        }
    ),
    Role.DEPUTY: frozenset(
        {
            Perm.VIEW_SCHOOL_DIRECTORY,
            Perm.VIEW_ALL_STUDENTS,
            Perm.VIEW_CONTACTS,
            Perm.VIEW_ALL_JOURNALS,
            Perm.MANAGE_CALENDAR,
            Perm.MANAGE_STRUCTURE,
            Perm.MANAGE_TIMETABLE,
            Perm.VIEW_ALL_PLANS,
            Perm.APPROVE_PLANS,
            Perm.PUBLISH_ANNOUNCEMENTS,
            Perm.MODERATE_FORUM,
        }
    ),
    Role.SECRETARY: frozenset(
        {
            Perm.VIEW_SCHOOL_DIRECTORY,
            Perm.VIEW_ALL_STUDENTS,
            Perm.VIEW_CONTACTS,
            Perm.MANAGE_STUDENTS,
            Perm.MANAGE_CONSENTS,
            Perm.ISSUE_CERTIFICATES,
        }
    ),
    Role.TEACHER: frozenset({Perm.VIEW_SCHOOL_DIRECTORY}),
    Role.STUDENT: frozenset(),
    Role.PARENT: frozenset(),
}

# What an education-authority viewer may do in the schools of its authority: read only, and not the
# families' contact details (personal-data minimisation: an inspection reads records, it does not call home).
AUTHORITY_PERMS: frozenset[Perm] = frozenset(
    {Perm.VIEW_SCHOOL_DIRECTORY, Perm.VIEW_ALL_STUDENTS, Perm.VIEW_ALL_JOURNALS}
)
