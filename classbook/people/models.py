"""People, their roles in schools, and their credentials.

People are permanent; memberships, enrolments and guardian links are dated.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Exists, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from classbook.core.models import SchoolOwned
from classbook.schools.models import AcademicYear


class User(AbstractUser):
    """Any person who may log in: staff, students, parents, authority viewers."""

    patronymic = models.CharField(_("patronymic"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    language = models.CharField(_("interface language"), max_length=5, choices=settings.LANGUAGES, blank=True)
    # Raised by every credential event that ends all sessions (issue 9): it is part of the session hash, so
    # a session ends even where the sessions list does not know it (or a cache still holds it).
    session_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["last_name", "first_name", "patronymic"]

    def __str__(self) -> str:
        return self.full_name or self.username

    def get_session_auth_hash(self) -> str:
        """Django's hash (it changes with the password), bound to ``session_version`` once that was raised."""
        base = super().get_session_auth_hash()
        if not self.session_version:
            return base  # sessions made before the first credential event stay valid
        return salted_hmac(
            "classbook.people.User.session_version", f"{base}:{self.session_version}", algorithm="sha256"
        ).hexdigest()

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.patronymic) if p)

    @property
    def short_name(self) -> str:
        initials = "".join(f"{p[0]}." for p in (self.first_name, self.patronymic) if p)
        return f"{self.last_name} {initials}".strip() or self.username


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    DIRECTOR = "director", _("Director")
    DEPUTY = "deputy", _("Deputy director")
    SECRETARY = "secretary", _("Secretary")
    TEACHER = "teacher", _("Teacher")
    STUDENT = "student", _("Student")
    PARENT = "parent", _("Parent")


STAFF_ROLES = frozenset({Role.ADMIN, Role.DIRECTOR, Role.DEPUTY, Role.SECRETARY, Role.TEACHER})


class Membership(SchoolOwned):
    """A role of a person in a school. A class teacher is a teacher named on a class."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("role"), max_length=12, choices=Role.choices)
    position = models.CharField(_("position"), max_length=120, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    since = models.DateField(_("since"), default=dt.date.today)
    until = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("role in school")
        verbose_name_plural = _("roles in school")
        constraints = [models.UniqueConstraint(fields=["school", "user", "role"], name="membership_unique_role")]
        indexes = [models.Index(fields=["user", "is_active"]), models.Index(fields=["school", "role", "is_active"])]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}"


class AuthorityViewer(models.Model):
    """A person of an education authority who sees its schools read-only."""

    authority = models.ForeignKey("schools.EducationAuthority", on_delete=models.CASCADE, related_name="viewers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="authority_roles")

    class Meta:
        verbose_name = _("education authority viewer")
        verbose_name_plural = _("education authority viewers")
        constraints = [models.UniqueConstraint(fields=["authority", "user"], name="authorityviewer_unique")]


class Gender(models.TextChoices):
    FEMALE = "f", _("female")
    MALE = "m", _("male")


class Student(SchoolOwned):
    """A student's record in a school (personal file data, R7.3). The login is ``user``."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="student")
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    personal_file_number = models.CharField(_("personal file number"), max_length=32, blank=True)
    left_on = models.DateField(_("left the school on"), null=True, blank=True)

    class Meta:
        verbose_name = _("student")
        verbose_name_plural = _("students")

    def __str__(self) -> str:
        return self.user.full_name

    @property
    def has_left(self) -> bool:
        return self.left_on is not None and self.left_on <= timezone.localdate()


class Enrolment(SchoolOwned):
    """A student's membership of a class for a span of days (class lists, movement R7.2)."""

    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="enrolments")
    school_class = models.ForeignKey(
        "schools.SchoolClass", verbose_name=_("class"), on_delete=models.PROTECT, related_name="enrolments"
    )
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True, help_text=_("Empty while the student is in the class"))

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        constraints = [
            models.UniqueConstraint(fields=["student", "school_class"], name="enrolment_unique"),
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")), name="enrolment_dates"
            ),
        ]
        indexes = [models.Index(fields=["school_class", "end"])]


def current_enrolment_q(school_id: Any, prefix: str = "") -> Q:
    """Enrolments that are *current*: open (no end) and of the school's current year.

    After the next year is opened the old year's enrolments stay open until the year is closed (a
    year-end order, or ``manage.py apply_orders`` after its last day), so a student has an open
    enrolment in last year's class and in the new one. Only the class of the school's current year
    (``AcademicYear.is_current``, switched on the years page) is the student's class now; a school that
    flags no current year counts every open enrolment. ``prefix`` reaches the enrolment from another
    model (``"enrolments__"``): combine it with the other enrolment conditions in one ``filter()``
    call, so that they speak of one row.
    """
    flagged = AcademicYear.objects.filter(school_id=school_id, is_current=True)
    is_open = Q(**{f"{prefix}end__isnull": True})
    return is_open & (Q(**{f"{prefix}school_class__year__is_current": True}) | Q(~Exists(flagged)))


class GuardianLink(SchoolOwned):
    """A guardian (parent) of a student. Several guardians per child, several children per guardian.

    ``may_see`` can be switched off (restricted by custody); ``ended_on`` ends the link.
    """

    guardian = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="guardian_links")
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="guardian_links")
    relation = models.CharField(_("relation"), max_length=40, blank=True, help_text=_("mother, father, guardian..."))
    may_see = models.BooleanField(_("may see the child's data"), default=True)
    ended_on = models.DateField(_("link ended on"), null=True, blank=True)

    class Meta:
        verbose_name = _("guardian link")
        verbose_name_plural = _("guardian links")
        constraints = [models.UniqueConstraint(fields=["guardian", "student"], name="guardianlink_unique")]
        indexes = [models.Index(fields=["guardian", "may_see"])]


class ConsentPurpose(models.TextChoices):
    PERSONAL_DATA = "personal_data", _("Processing of personal data in the electronic journal")
    PHOTO = "photo", _("Publication of photographs")
    NOTIFICATIONS = "notifications", _("Notifications by e-mail and messengers")


class Consent(SchoolOwned):
    """A personal-data consent given for a student (R7.4)."""

    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="consents")
    purpose = models.CharField(
        _("purpose"), max_length=20, choices=ConsentPurpose.choices, default=ConsentPurpose.PERSONAL_DATA
    )
    given_by = models.CharField(_("given by"), max_length=255, help_text=_("Full name of the parent or guardian"))
    given_on = models.DateField(_("given on"))
    document_ref = models.CharField(_("document reference"), max_length=120, blank=True)
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-given_on"]


class ActivationCode(SchoolOwned):
    """A one-time code for a first login (R1.2). Only its hash is stored; the code is shown once, on the slip."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="activation_codes")
    code_hash = models.CharField(max_length=64, unique=True)
    # Empty for codes printed by the platform operator's command (no school user may issue them).
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    issued_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("activation code")
        verbose_name_plural = _("activation codes")
        indexes = [models.Index(fields=["user", "used_at", "revoked_at"])]

    @property
    def is_usable(self) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class TOTPDevice(models.Model):
    """A TOTP authenticator (RFC 6238) of a user; confirmed once the user typed a valid code."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device")
    secret = models.CharField(max_length=64)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_used_step = models.BigIntegerField(default=0, help_text="Time step of the last accepted code (no replay)")
    created_at = models.DateTimeField(auto_now_add=True)


class UserSession(models.Model):
    """A login session of a user, so they can see and end their other sessions (R1.5)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="login_sessions")
    session_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-last_seen"]


class LoginFailure(models.Model):
    """A failed login, counted for throttling per username, per address and (activation) per typed code."""

    username = models.CharField(max_length=150, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    # A keyed hash of the typed activation code (never the code itself), so one code is throttled
    # whatever username is typed with it.
    code_key = models.CharField(max_length=64, blank=True, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)


class ApiToken(models.Model):
    """A personal API token. Only the hash is stored; the token is shown once when created."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(max_length=12, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"], condition=Q(revoked_at__isnull=True), name="apitoken_unique_name"
            )
        ]


class RecoveryCode(models.Model):
    """A one-time code to pass the two-factor step when the authenticator is lost. Only the hash is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "code_hash"], name="recoverycode_unique")]
