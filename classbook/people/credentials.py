"""Credentials: activation codes, login throttling, two-factor, sessions, API tokens, language (R1.2, R1.5).

Every function here that changes state is one business action: keyword-only
``acting_user`` where someone acts on someone else, atomic, audited with
``core.audit.log_action``, and refuses with a translated ``DomainError``.
Secrets (activation codes, API tokens) are stored only as SHA-256 hashes; the
plaintext exists only in the return value of the function that created it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import import_module

import pyotp
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from classbook.access import codes as codes_access
from classbook.core.audit import log_action
from classbook.core.devices import device_key, device_label, network_of
from classbook.core.errors import ConflictError, DomainError
from classbook.core.events import send_on_commit
from classbook.core.models import AuditEntry
from classbook.people.events import AccountEvent, account_changed
from classbook.people.models import (
    STAFF_ROLES,
    ActivationCode,
    ApiToken,
    LoginFailure,
    Membership,
    RecoveryCode,
    TOTPDevice,
    User,
    UserSession,
)
from classbook.schools.models import School

# --- Activation codes (R1.2) ----------------------------------------------------

# Letters and digits people can read off paper and type without confusion: no 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_GROUPS = 4
CODE_GROUP_LEN = 4
CODE_LEN = CODE_GROUPS * CODE_GROUP_LEN

INVALID_CODE_MESSAGE = _("This activation code is not valid. Check it, or ask for a new one.")


def generate_code() -> str:
    """A random code like ``K7QM-2HXD-PW9B-T4RC`` (16 symbols of 31: about 79 bits)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LEN))
    return "-".join(raw[i : i + CODE_GROUP_LEN] for i in range(0, CODE_LEN, CODE_GROUP_LEN))


def normalize_code(text: str) -> str | None:
    """The canonical form of a typed code (upper case, no spaces or dashes), or None if it cannot be one."""
    if not text or len(text) > 64:
        return None
    raw = "".join(ch for ch in text.upper() if ch not in " -\t")
    if len(raw) != CODE_LEN or any(ch not in CODE_ALPHABET for ch in raw):
        return None
    return raw


def hash_code(code: str) -> str:
    """SHA-256 of the normalized code: what the database keeps."""
    normalized = normalize_code(code)
    if normalized is None:
        raise ValueError("not an activation code")
    return hashlib.sha256(normalized.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedCode:
    """A code just issued: the plaintext lives only here, for the slip (R1.2)."""

    user: User
    code: str
    expires_at: dt.datetime
    row: ActivationCode


OPERATOR_COMMAND = "operator command"


def _revoke_unused(
    user: User, *, school: School | None, actor: User | None, reason: str, exclude_pk: int | None = None
) -> int:
    """Revoke the user's usable codes (of ``school``, or of every school when None), auditing each."""
    now = timezone.now()
    qs = ActivationCode.objects.select_for_update().filter(user=user, used_at__isnull=True, revoked_at__isnull=True)
    if school is not None:
        qs = qs.filter(school=school)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    rows = list(qs)
    for row in rows:
        row.revoked_at = now
        row.save(update_fields=["revoked_at"])
        data: dict[str, object] = {"user": user.pk, "reason": reason}
        if actor is None:
            data["via"] = OPERATOR_COMMAND
        log_action("people.activation_code.revoked", actor=actor, school=row.school, obj=row, data=data)
    return len(rows)


def _check_issuer(acting_user: User | None, school: School, users: list[User]) -> None:
    """The service's own check of the issuance rule (``access/codes.py``), whatever door the call came through.

    ``acting_user=None`` is the platform operator's command. Refused: a ``DomainError`` with code
    ``not_found`` (the pages answer 404), before anything is written.
    """
    if acting_user is None:
        return
    reach = codes_access.issuable_people(acting_user, school).filter(pk__in=[u.pk for u in users])
    allowed = set(reach.values_list("pk", flat=True))
    if any(user.pk not in allowed for user in users):
        raise DomainError(_("You may not issue activation codes for this person."), code="not_found")


@transaction.atomic
def issue_activation_codes(*, acting_user: User | None, school: School, users: Iterable[User]) -> list[IssuedCode]:
    """Issue a fresh activation code to each of ``users`` (R1.2: staff get codes from the administrator,
    students and parents from their class teacher; 000 §3.1, 004 §3.3).

    A code resets the password, so it may be issued only by someone whose authority covers every
    membership of the person (``access/codes.py``); ``acting_user=None`` is the platform operator's
    command (``manage.py issue_activation_code``), audited with no actor. Refused as a whole, writing nothing.
    A new code revokes the person's earlier unused codes of this school, so the last printed slip is the
    one that works. Issuing a code to a person who already has an account is the password reset: their
    password is replaced when they activate the new code. Codes expire after
    ``settings.CLASSBOOK_ACTIVATION_CODE_DAYS``.
    """
    people = list(users)
    _check_issuer(acting_user, school, people)
    expires_at = timezone.now() + dt.timedelta(days=settings.CLASSBOOK_ACTIVATION_CODE_DAYS)
    issued: list[IssuedCode] = []
    for user in people:
        if not user.is_active:
            raise DomainError(
                _("%(name)s has no active account; an administrator must re-activate it first.")
                % {"name": user.full_name or user.username}
            )
        _revoke_unused(user, school=school, actor=acting_user, reason="reissued")
        code = generate_code()
        row = ActivationCode.objects.create(
            school=school, user=user, code_hash=hash_code(code), issued_by=acting_user, expires_at=expires_at
        )
        data: dict[str, object] = {"user": user.pk, "expires_at": expires_at.isoformat()}
        if acting_user is None:
            data["via"] = OPERATOR_COMMAND
        log_action("people.activation_code.issued", actor=acting_user, school=school, obj=row, data=data)
        issued.append(IssuedCode(user=user, code=code, expires_at=expires_at, row=row))
    return issued


@transaction.atomic
def revoke_activation_codes(*, acting_user: User | None, school: School, user: User) -> int:
    """Withdraw the person's unused codes of this school, e.g. a lost slip (R1.2). Returns how many.

    The same rule as issuing: only someone who could issue the person a code may withdraw theirs.
    """
    _check_issuer(acting_user, school, [user])
    return _revoke_unused(user, school=school, actor=acting_user, reason="revoked")


def find_usable_code(code: str, username: str = "") -> ActivationCode | None:
    """The usable code matching the typed ``code`` (and ``username`` when given), else None.

    Wrong, expired, used and revoked codes all answer None: the person gets one message (R1.5).
    """
    if normalize_code(code) is None:
        return None
    row = (
        ActivationCode.objects.select_related("user", "school")
        .filter(code_hash=hash_code(code), used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if row is None or not row.user.is_active:
        return None
    if username and row.user.get_username().casefold() != username.strip().casefold():
        return None
    return row


def usable_code_by_id(code_id: int) -> ActivationCode | None:
    """The code remembered between the two activation steps, if it is still usable."""
    return (
        ActivationCode.objects.select_related("user")
        .filter(pk=code_id, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .filter(user__is_active=True)
        .first()
    )


@transaction.atomic
def activate_account(*, code_id: int, password: str) -> User:
    """First login (or reset) with an activation code (R1.2): set the chosen password, mark the code used,
    revoke the person's other unused codes, end all their sessions and revoke their API tokens, since the
    old password is gone (R1.5), and tell them (issue 9).

    Two-factor login is left as it is: a code resets the password only, so whoever holds a slip still
    needs the person's authenticator. A lost phone is the administrator's separate, audited
    ``reset_two_factor``. The password must already have passed the form's validators.
    """
    row = (
        ActivationCode.objects.select_for_update()
        .select_related("user")
        .filter(pk=code_id, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if row is None or not row.user.is_active:
        raise DomainError(INVALID_CODE_MESSAGE, code="invalid_code")
    user = row.user
    row.used_at = timezone.now()
    row.save(update_fields=["used_at"])
    log_action("people.activation_code.used", actor=user, school=row.school, obj=row, data={"user": user.pk})
    _revoke_unused(user, school=None, actor=user, reason="another code used", exclude_pk=row.pk)
    user.set_password(password)
    user.save(update_fields=["password"])
    end_access(user=user, actor=user, event=AccountEvent.CODE_REDEEMED, school=row.school, issuer_id=row.issued_by_id)
    return user


def active_user(user_id: int) -> User | None:
    """The active user with this id (between the two login steps), else None."""
    return User.objects.filter(pk=user_id, is_active=True).first()


# --- Login throttling (R1.5) ----------------------------------------------------

THROTTLED_MESSAGE = _("Too many failed attempts. Please wait %(minutes)s minutes and try again.")


def _throttle_username(username: str) -> str:
    return (username or "").strip().casefold()[:150]


def _ip_limit() -> int:
    # A whole school often reaches us from one public address, so the address limit is larger than the
    # per-username one; otherwise five typos by pupils in one classroom would lock out the whole school.
    return getattr(settings, "CLASSBOOK_LOGIN_MAX_FAILURES_PER_IP", settings.CLASSBOOK_LOGIN_MAX_FAILURES * 10)


def is_throttled(username: str, ip: str | None, *, code_key: str = "") -> bool:
    """True when the username, the address or the typed activation code had too many recent failures
    (login, activation, 2FA).

    The answer does not depend on whether the username exists, so it tells an attacker nothing.
    """
    since = timezone.now() - dt.timedelta(minutes=settings.CLASSBOOK_LOGIN_WINDOW_MINUTES)
    recent = LoginFailure.objects.filter(at__gte=since)
    name = _throttle_username(username)
    if name and recent.filter(username=name).count() >= settings.CLASSBOOK_LOGIN_MAX_FAILURES:
        return True
    if code_key and recent.filter(code_key=code_key).count() >= settings.CLASSBOOK_LOGIN_MAX_FAILURES:
        return True
    return bool(ip) and recent.filter(ip=ip).count() >= _ip_limit()


def throttled_message() -> str:
    return str(THROTTLED_MESSAGE % {"minutes": settings.CLASSBOOK_LOGIN_WINDOW_MINUTES})


def record_failure(username: str, ip: str | None, *, code_key: str = "") -> None:
    """Count a failed login, activation or two-factor attempt (and forget failures older than a day)."""
    now = timezone.now()
    LoginFailure.objects.filter(at__lt=now - dt.timedelta(days=1)).delete()
    LoginFailure.objects.create(username=_throttle_username(username), ip=ip or None, code_key=code_key, at=now)


def code_throttle_key(code: str) -> str:
    """What the failure table keeps of a typed activation code: a keyed hash of its normalized form.

    Spellings of one code (lower case, spaces, dashes) share the key; the key is not the code's stored
    hash, so the failure table cannot be matched against the codes table.
    """
    text = normalize_code(code) or "".join((code or "").split()).upper()[:64]
    return salted_hmac("classbook.activation-throttle", text, algorithm="sha256").hexdigest()


def redeemable_code(*, code: str, username: str, ip: str | None) -> ActivationCode:
    """Step 1 of activation (R1.2, R1.5): the usable code typed on the form, else a translated ``DomainError``.

    Throttled per address, per typed username, per typed code (whatever username comes with it), and per
    the code's owner: leaving the username empty or altering it does not escape the owner's throttle.
    A failure counts against the address, the typed username and the code. Refusals: code ``throttled``
    or ``invalid_code``.
    """
    key = code_throttle_key(code)
    if is_throttled(username, ip, code_key=key):
        raise DomainError(throttled_message(), code="throttled")
    row = find_usable_code(code)
    if row is not None and is_throttled(row.user.get_username(), None):
        # Telling "throttled" here reveals no more than a success would: the code is right.
        raise DomainError(throttled_message(), code="throttled")
    typed = _throttle_username(username)
    if row is None or (typed and row.user.get_username().casefold() != typed):
        record_failure(username, ip, code_key=key)
        raise DomainError(INVALID_CODE_MESSAGE, code="invalid_code")
    return row


def record_login(*, user: User, ip: str | None, user_agent: str, method: str) -> None:
    """A successful login is part of the account's audit trail (who, when, from where, how).

    A login from a device (browser and system) and network this account has never logged in from before
    is also recorded as ``people.login.new_device``; the very first login of an account is not.
    One query on the (school, subject, at) index in the usual case of a known device.
    """
    device = device_key(user_agent, ip)
    logins = AuditEntry.objects.filter(school=None, subject=user, action="people.login")
    if not logins.filter(data__device=device).exists() and logins.exists():
        data = {"ip": ip, "device": device_label(user_agent), "network": network_of(ip), "method": method}
        log_action("people.login.new_device", actor=user, obj=user, data=data)
    log_action(
        "people.login",
        actor=user,
        obj=user,
        data={"ip": ip, "user_agent": user_agent[:255], "method": method, "device": device},
    )


def clear_failures(username: str) -> None:
    """A successful login forgets the username's failures (the address keeps its count)."""
    LoginFailure.objects.filter(username=_throttle_username(username)).delete()


# --- Two-factor authentication (TOTP, RFC 6238) -----------------------------------

TOTP_ISSUER = "Classbook"


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.get_username(), issuer_name=TOTP_ISSUER)


def _matching_step(secret: str, code: str, after_step: int) -> int | None:
    """The time step (±1 for clock drift) whose code equals ``code`` and is newer than ``after_step``."""
    code = (code or "").replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(timezone.now())
    for step in (now_step - 1, now_step, now_step + 1):
        if step > after_step and secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def has_confirmed_totp(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


@transaction.atomic
def confirm_totp_device(*, user: User, secret: str, code: str) -> TOTPDevice:
    """Switch on two-factor login (R1.5): the user proves their authenticator shows codes for ``secret``."""
    step = _matching_step(secret, code, after_step=0)
    if step is None:
        raise DomainError(_("The code is not correct. Check the time on your phone and try again."), field="code")
    device, _created = TOTPDevice.objects.update_or_create(
        user=user, defaults={"secret": secret, "confirmed_at": timezone.now(), "last_used_step": step}
    )
    log_action("people.totp.enabled", actor=user, obj=device)
    return device


@transaction.atomic
def verify_totp(*, user: User, code: str) -> bool:
    """Check a code at login or before a sensitive change; each time step is accepted only once (no replay)."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=False).first()
    if device is None:
        return False
    step = _matching_step(device.secret, code, after_step=device.last_used_step)
    if step is None:
        return False
    device.last_used_step = step
    device.save(update_fields=["last_used_step"])
    return True


RECOVERY_CODE_COUNT = 10


@transaction.atomic
def new_recovery_codes(*, user: User) -> list[str]:
    """Ten one-time recovery codes for a lost authenticator, replacing earlier ones; shown once (R1.5)."""
    RecoveryCode.objects.filter(user=user).delete()
    codes = [generate_code() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create([RecoveryCode(user=user, code_hash=hash_code(code)) for code in codes])
    log_action("people.recovery_codes.created", actor=user, obj=user, data={"count": len(codes)})
    return codes


def unused_recovery_codes(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


@transaction.atomic
def use_recovery_code(*, user: User, code: str) -> bool:
    """Pass the two-factor step with a recovery code instead of the app; each code works once."""
    if normalize_code(code) is None:
        return False
    row = (
        RecoveryCode.objects.select_for_update()
        .filter(user=user, code_hash=hash_code(code), used_at__isnull=True)
        .first()
    )
    if row is None:
        return False
    row.used_at = timezone.now()
    row.save(update_fields=["used_at"])
    log_action("people.recovery_code.used", actor=user, obj=user, data={"left": unused_recovery_codes(user)})
    return True


def verify_second_factor(*, user: User, code: str) -> bool:
    """The login's second step: a current authenticator code, or else an unused recovery code."""
    code = (code or "").replace(" ", "")
    if code.isdigit():
        return verify_totp(user=user, code=code)
    return use_recovery_code(user=user, code=code)


def staff_memberships(user: User) -> QuerySet[Membership]:
    """The user's current staff roles in any school (idle timeout and two-factor policies follow them)."""
    return Membership.objects.filter(user=user, is_active=True, role__in=list(STAFF_ROLES)).exclude(
        until__lt=timezone.localdate()
    )


def remember_days(user: User) -> int:
    """How many days a login with "Remember this device" lasts for ``user`` (0: not at all).

    Only for students and parents: any current staff role anywhere makes it 0 (a teacher's session on a
    classroom computer must end, R1.5). Otherwise the strictest of the user's schools' settings."""
    if staff_memberships(user).exists():
        return 0
    days = list(
        Membership.objects.filter(user=user, is_active=True)
        .exclude(until__lt=timezone.localdate())
        .values_list("school__remember_device_days", flat=True)
    )
    return min(days) if days else 0


def schools_requiring_2fa(user: User) -> list[School]:
    """Schools where the user is staff and the school requires two-factor login for staff."""
    ids = staff_memberships(user).filter(school__require_staff_2fa=True).values_list("school_id", flat=True)
    return list(School.objects.filter(pk__in=ids))


def needs_2fa_setup(user: User) -> bool:
    """A staff user of a school that requires two-factor login, without a confirmed device."""
    return staff_memberships(user).filter(school__require_staff_2fa=True).exists() and not has_confirmed_totp(user)


@transaction.atomic
def disable_totp(*, user: User, code: str) -> None:
    """Switch off two-factor login; needs a current code, and is refused where a school requires it.

    A weaker login from now on: every session ends, this one too, and every API token is revoked (issue 9).
    """
    if schools_requiring_2fa(user):
        raise DomainError(_("Your school requires two-factor authentication for staff; it cannot be switched off."))
    if not verify_totp(user=user, code=code):
        raise DomainError(_("The code is not correct."), field="code")
    TOTPDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    log_action("people.totp.disabled", actor=user, obj=user)
    end_access(user=user, actor=user, event=AccountEvent.TOTP_DISABLED)


# --- Sessions (R1.5) -------------------------------------------------------------


def end_sessions(
    *, user: User, keep_session_key: str | None = None, only_pk: int | None = None, actor: User | None = None
) -> int:
    """End the user's login sessions (all, all but ``keep_session_key``, or the one ``only_pk``).

    Deleting the Django session row logs that device out at its next request (R1.5: a session left open
    on a classroom computer can be closed from a phone).
    """
    qs = UserSession.objects.filter(user=user)
    if keep_session_key:
        qs = qs.exclude(session_key=keep_session_key)
    if only_pk is not None:
        qs = qs.filter(pk=only_pk)
    keys = list(qs.values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    _forget_cached_sessions(keys)
    qs.delete()
    if keys:
        log_action("people.sessions.ended", actor=actor or user, obj=user, data={"count": len(keys)})
    return len(keys)


def _forget_cached_sessions(keys: list[str]) -> None:
    """With a cached session engine (``cached_db`` with Redis), drop the ended sessions from the cache too:
    the table alone would leave them readable from the cache until it expires."""
    if not keys:
        return
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if hasattr(store, "cache_key_prefix"):
        caches[settings.SESSION_CACHE_ALIAS].delete_many([store.cache_key_prefix + key for key in keys])


def rekey_session(*, old_key: str | None, new_key: str | None) -> None:
    """Follow a session whose key Django rotated (password change), so it stays listed and alive."""
    if old_key and new_key and old_key != new_key:
        UserSession.objects.filter(session_key=old_key).update(session_key=new_key)


# --- API tokens --------------------------------------------------------------------


def _hash_token(token: str) -> str:
    # Same hash as classbook.api.auth.hash_token (the API layer reads tokens; people may not import it).
    return hashlib.sha256(token.encode()).hexdigest()


TOKEN_PREFIX = "cb_"  # noqa: S105 - a public prefix, not a secret


@transaction.atomic
def create_api_token(*, user: User, name: str, expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    """Create a personal API token; the plaintext is returned once and never stored."""
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise DomainError(_("Give the token a name of up to 80 characters."), field="name")
    if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
        raise DomainError(_("The token may live between 1 and 3650 days."), field="expires_in_days")
    if ApiToken.objects.filter(user=user, name=name, revoked_at__isnull=True).exists():
        raise ConflictError(_("You already have a token with this name."), code="duplicate_name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=token[:10],
        token_hash=_hash_token(token),
        expires_at=timezone.now() + dt.timedelta(days=expires_in_days) if expires_in_days else None,
    )
    log_action("people.api_token.created", actor=user, obj=row, data={"name": name})
    return row, token


@transaction.atomic
def revoke_api_token(*, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens (unknown or someone else's: DomainError 'not found')."""
    row = ApiToken.objects.select_for_update().filter(user=user, pk=token_id, revoked_at__isnull=True).first()
    if row is None:
        raise DomainError(_("No such token."), code="not_found")
    row.revoked_at = timezone.now()
    row.save(update_fields=["revoked_at"])
    log_action("people.api_token.revoked", actor=user, obj=row, data={"name": row.name})
    return row


# --- Ending a person's access (issue 9) ---------------------------------------------------------------

REASON_MAX = 500


@transaction.atomic
def revoke_api_tokens(*, user: User, actor: User, reason: str) -> int:
    """Revoke every live API token of the user, auditing each (who, which token, why). Returns how many."""
    rows = list(ApiToken.objects.select_for_update().filter(user=user, revoked_at__isnull=True))
    now = timezone.now()
    for row in rows:
        row.revoked_at = now
        row.save(update_fields=["revoked_at"])
        log_action("people.api_token.revoked", actor=actor, obj=row, data={"name": row.name, "reason": reason})
    return len(rows)


def end_access(
    *,
    user: User,
    actor: User,
    event: AccountEvent,
    school: School | None = None,
    reason: str = "",
    keep_session_key: str | None = None,
    issuer_id: int | None = None,
) -> None:
    """The one way a credential event ends a person's access: every session (but ``keep_session_key``, used
    only by the person's own password change) and every API token end, audited, and the person is told in
    the app and by e-mail what happened, who did it and when (``events.account_changed``, sent on commit).

    Call it inside the transaction of the event, so a rolled-back event ends nothing and tells nobody.
    """
    end_sessions(user=user, keep_session_key=keep_session_key, actor=actor)
    # Sessions nobody listed (or a cache still holds) end too: the session hash changes. The caller
    # keeping its own session stores the new hash (``update_session_auth_hash``) with this same object.
    User.objects.filter(pk=user.pk).update(session_version=F("session_version") + 1)
    user.refresh_from_db(fields=["session_version"])
    revoke_api_tokens(user=user, actor=actor, reason=str(event))
    announce_account_event(user=user, actor=actor, event=event, school=school, reason=reason, issuer_id=issuer_id)


def announce_account_event(
    *,
    user: User,
    actor: User,
    event: AccountEvent,
    school: School | None = None,
    reason: str = "",
    issuer_id: int | None = None,
) -> None:
    """Tell the person about an event on their account, once the transaction commits (notifications listen)."""
    item = {
        "event": str(event),
        "user_id": user.pk,
        "actor_id": actor.pk,
        "issuer_id": issuer_id,
        "school_id": school.pk if school is not None else None,
        "at": timezone.now().isoformat(),
        "reason": reason,
    }
    send_on_commit(account_changed, User, item)


@transaction.atomic
def change_password(*, user: User, password: str, keep_session_key: str | None) -> None:
    """The person's own password change (R1.5): the form has checked the old password and validated the
    new one. Every other session and every API token ends; the session the person is using stays, under
    a new key (the caller rotates it with ``update_session_auth_hash``), since its holder has just proved
    the old password and set the new one: ending it would only make them type the new password at once.
    """
    user.set_password(password)
    user.save(update_fields=["password"])
    log_action("people.password.changed", actor=user, obj=user)
    end_access(user=user, actor=user, event=AccountEvent.PASSWORD_CHANGED, keep_session_key=keep_session_key)


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give a reason."), field="reason", code="reason_required")
    if len(reason) > REASON_MAX:
        raise DomainError(
            _("The reason may be at most %(count)s characters long.") % {"count": REASON_MAX}, field="reason"
        )
    return reason


REAUTH_FAILED_MESSAGE = _("Your password or code is not correct.")


def reauthenticate(*, user: User, password: str, code: str, ip: str | None) -> None:
    """A sensitive action asks the acting user again for their password, and their two-factor code when
    they have set it up, so an unattended or stolen session cannot do it. Throttled like the login (R1.5):
    each failure counts for the username and the address (a ``LoginFailure`` row, nothing else).

    Runs outside the action's transaction, so that the failure is counted although the action is refused.
    """
    if is_throttled(user.get_username(), ip):
        raise DomainError(throttled_message(), code="throttled")
    ok = bool(password) and user.check_password(password)
    if ok and has_confirmed_totp(user):
        ok = verify_totp(user=user, code=code or "")
    if not ok:
        record_failure(user.get_username(), ip)
        raise DomainError(REAUTH_FAILED_MESSAGE, field="password", code="reauthentication_failed")


def reset_two_factor(
    *, acting_user: User, school: School, user: User, reason: str, password: str, code: str, ip: str | None
) -> None:
    """An administrator removes a person's two-factor login (a lost phone), never as a side effect of
    anything else (issue 9). The caller passes only a person from ``access.accounts.people_for_credentials``.

    Needs the administrator's re-authentication and a reason; audited as ``people.totp.reset``; the
    person's sessions and API tokens end and they are told. At their next login they log in with the
    password alone and, where the school requires two-factor login, set it up again.
    """
    reason = _clean_reason(reason)
    if not TOTPDevice.objects.filter(user=user).exists():
        raise DomainError(_("This person has not set up two-factor login."), code="no_two_factor")
    reauthenticate(user=acting_user, password=password, code=code, ip=ip)
    with transaction.atomic():
        removed = TOTPDevice.objects.select_for_update().filter(user=user).delete()[0]
        if not removed:
            raise DomainError(_("This person has not set up two-factor login."), code="no_two_factor")
        RecoveryCode.objects.filter(user=user).delete()
        log_action("people.totp.reset", actor=acting_user, school=school, obj=user, data={"reason": reason})
        end_access(user=user, actor=acting_user, event=AccountEvent.TOTP_RESET, school=school, reason=reason)


@transaction.atomic
def deactivate_user(*, acting_user: User, school: School, user: User, reason: str) -> User:
    """Deactivate a person's account (all schools: ``User.is_active``) with a reason (issue 9).

    From this moment the person cannot log in, use a session or an API token, or redeem an activation
    code (their unused codes are revoked too). The caller passes only a person from
    ``access.accounts.people_for_credentials``: the actor administers every school where they have a role.
    """
    reason = _clean_reason(reason)
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not locked.is_active:
        raise DomainError(_("This account is already deactivated."), code="already_deactivated")
    locked.is_active = False
    locked.save(update_fields=["is_active"])
    log_action("people.user.deactivated", actor=acting_user, school=school, obj=locked, data={"reason": reason})
    _revoke_unused(locked, school=None, actor=acting_user, reason="account deactivated")
    end_access(user=locked, actor=acting_user, event=AccountEvent.DEACTIVATED, school=school, reason=reason)
    user.is_active = False
    return locked


@transaction.atomic
def reactivate_user(*, acting_user: User, school: School, user: User, reason: str) -> User:
    """Let a deactivated person log in again with their password (issue 9). Sessions and API tokens ended
    at the deactivation stay ended; the person is told."""
    reason = _clean_reason(reason)
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.is_active:
        raise DomainError(_("This account is active."), code="already_active")
    locked.is_active = True
    locked.save(update_fields=["is_active"])
    log_action("people.user.reactivated", actor=acting_user, school=school, obj=locked, data={"reason": reason})
    announce_account_event(user=locked, actor=acting_user, event=AccountEvent.REACTIVATED, school=school, reason=reason)
    user.is_active = True
    return locked


# --- Profile and language ---------------------------------------------------------------

PROFILE_FIELDS = ("email", "phone", "language")


@transaction.atomic
def update_profile(*, user: User, changes: dict[str, str]) -> list[str]:
    """The user's own contact details and interface language (R7.6: people report changes of their data).

    Returns the names of the fields that changed; the audit row keeps old and new values.
    """
    changed = {
        name: {"old": getattr(user, name), "new": value}
        for name, value in changes.items()
        if name in PROFILE_FIELDS and getattr(user, name) != value
    }
    if not changed:
        return []
    for name, values in changed.items():
        setattr(user, name, values["new"])
    user.full_clean(validate_unique=False, exclude=[f.name for f in User._meta.fields if f.name not in changed])
    user.save(update_fields=list(changed))
    log_action("people.profile.updated", actor=user, obj=user, data=changed)
    return list(changed)


# --- Language ---------------------------------------------------------------------


def set_user_language(*, user: User, language: str) -> bool:
    """Remember the interface language on the account, so it follows the user to every device."""
    if language not in dict(settings.LANGUAGES) or user.language == language:
        return False
    user.language = language
    user.save(update_fields=["language"])
    return True
