"""Account pages: login, first login with an activation code, two-factor, sessions, language, API tokens,
and the school page where activation codes are issued and their slips printed (R1.2, R1.5).

Thin: parse input, check access through ``classbook.access``, call ``credentials`` or ``queries``, render.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from classbook.access import codes as codes_access
from classbook.access import scopes
from classbook.access.context import SchoolContext, start_url, user_schools
from classbook.access.decorators import school_view
from classbook.core.devices import device_label
from classbook.core.errors import DomainError
from classbook.people import credentials, queries
from classbook.people.forms import (
    ActivationForm,
    ApiTokenForm,
    CodesFilterForm,
    IssueCodesForm,
    ProfileForm,
    SecondStepForm,
    ThrottledAuthenticationForm,
    TOTPCodeForm,
)
from classbook.people.middleware import refresh_policies

PENDING_2FA_KEY = "classbook_pending_2fa"
ACTIVATION_KEY = "classbook_activation"
TOTP_SETUP_KEY = "classbook_totp_setup_secret"
PENDING_2FA_TTL = dt.timedelta(minutes=5)
ACTIVATION_TTL = dt.timedelta(minutes=15)


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _set_language_cookie(response: HttpResponse, user: Any) -> HttpResponse:
    if getattr(user, "language", ""):
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language, samesite="Lax")
    return response


def _record_login(request: HttpRequest, user: Any, method: str) -> None:
    credentials.record_login(
        user=user, ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", ""), method=method
    )


def _remember(request: HttpRequest, user: Any, asked: bool) -> None:
    """ "Remember this device": the session lasts the school's days after the last visit (students and parents
    only; ``credentials.remember_days``). Sliding: the session is saved at least every few minutes of use."""
    days = credentials.remember_days(user) if asked else 0
    if days:
        request.session.set_expiry(int(dt.timedelta(days=days).total_seconds()))


def _fresh(state: dict[str, Any], ttl: dt.timedelta) -> bool:
    return bool(state) and timezone.now() - dt.datetime.fromisoformat(state["at"]) <= ttl


# --- Login -------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    """Django's login, throttled (R1.5), with a second step for users who set up two-factor login."""

    template_name = "people/login.html"
    form_class = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def get_success_url(self) -> str:
        """``next``, or the user's start page itself rather than ``/``, which would redirect once more."""
        url = super().get_success_url()
        if url == resolve_url(settings.LOGIN_REDIRECT_URL) and self.request.user.is_authenticated:
            return start_url(user_schools(self.request.user))
        return url

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        if self.request.method == "POST":
            username = str(self.request.POST.get("username", ""))
            kwargs["throttled"] = credentials.is_throttled(username, client_ip(self.request))
        return kwargs

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if credentials.has_confirmed_totp(user):
            # Not logged in yet: only the second step may finish the login.
            self.request.session[PENDING_2FA_KEY] = {
                "user": user.pk,
                "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[0]),
                "next": self.get_success_url(),
                "at": timezone.now().isoformat(),
                "remember": bool(form.cleaned_data.get("remember")),
            }
            return redirect("people:login_verify")
        response = super().form_valid(form)
        _remember(self.request, user, bool(form.cleaned_data.get("remember")))
        _record_login(self.request, user, "password")
        return _set_language_cookie(response, user)


class LogoutView(auth_views.LogoutView):
    """Django's logout; the answer also tells the browser to drop what it kept of the site.

    ``Clear-Site-Data: "cache", "storage"`` removes the diary's service worker and its offline copies
    (docs/diary.md, "The diary offline"), the teacher's kept grid pages and the queue of entries made offline
    (IndexedDB; docs/offline.md) and the HTTP cache; the login page it leads to tells a worker that
    is still there to forget, for browsers that ignore the header.
    """

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response


def login_verify(request: HttpRequest) -> HttpResponse:
    """Second login step: the code from the authenticator app (R1.5)."""
    state: dict[str, Any] = request.session.get(PENDING_2FA_KEY) or {}
    user = credentials.active_user(state["user"]) if _fresh(state, PENDING_2FA_TTL) else None
    if user is None:
        request.session.pop(PENDING_2FA_KEY, None)
        messages.info(request, _("Please log in again."))
        return redirect("people:login")
    form = SecondStepForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _check_second_factor(request, form, user):
        del request.session[PENDING_2FA_KEY]
        login(request, user, backend=state["backend"])
        _remember(request, user, bool(state.get("remember")))
        _record_login(request, user, "password+2fa")
        next_url = state["next"]
        if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
            next_url = settings.LOGIN_REDIRECT_URL
        return _set_language_cookie(redirect(next_url), user)
    return render(request, "people/login_verify.html", {"form": form})


def _check_second_factor(request: HttpRequest, form: SecondStepForm, user: Any) -> bool:
    """Throttled like the password (R1.5): failures count for the username and the address."""
    ip = client_ip(request)
    if credentials.is_throttled(user.get_username(), ip):
        form.add_error(None, credentials.throttled_message())
        return False
    if not credentials.verify_second_factor(user=user, code=form.cleaned_data["code"]):
        credentials.record_failure(user.get_username(), ip)
        form.add_error("code", _("The code is not correct."))
        return False
    return True


# --- First login with an activation code (R1.2) -------------------------------------


def activate(request: HttpRequest) -> HttpResponse:
    """Step 1: the code from the slip. Step 2 (``activate_password``) sets the password."""
    form = ActivationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            row = credentials.redeemable_code(
                code=form.cleaned_data["code"], username=form.cleaned_data["username"], ip=client_ip(request)
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            request.session[ACTIVATION_KEY] = {"code": row.pk, "at": timezone.now().isoformat()}
            return redirect("people:activate_password")
    return render(request, "people/activate.html", {"form": form})


def activate_password(request: HttpRequest) -> HttpResponse:
    """Step 2: choose a password (Django's validators), then the person is logged in."""
    state: dict[str, Any] = request.session.get(ACTIVATION_KEY) or {}
    row = credentials.usable_code_by_id(state["code"]) if _fresh(state, ACTIVATION_TTL) else None
    if row is None:
        request.session.pop(ACTIVATION_KEY, None)
        messages.error(request, credentials.INVALID_CODE_MESSAGE)
        return redirect("people:activate")
    form = SetPasswordForm(row.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = credentials.activate_account(code_id=row.pk, password=form.cleaned_data["new_password1"])
        except DomainError as exc:
            request.session.pop(ACTIVATION_KEY, None)
            messages.error(request, exc.message)
            return redirect("people:activate")
        request.session.pop(ACTIVATION_KEY, None)
        if credentials.has_confirmed_totp(user):
            # A code sets the password only (issue 9): a person with two-factor login still needs their
            # authenticator, so the login finishes at the second step, as after a password.
            request.session[PENDING_2FA_KEY] = {
                "user": user.pk,
                "backend": "django.contrib.auth.backends.ModelBackend",
                "next": settings.LOGIN_REDIRECT_URL,
                "at": timezone.now().isoformat(),
            }
            messages.success(request, _("Your password is set. Now enter the code from your authenticator app."))
            return redirect("people:login_verify")
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        _record_login(request, user, "activation_code")
        messages.success(request, _("Your password is set. Welcome!"))
        return _set_language_cookie(redirect(settings.LOGIN_REDIRECT_URL), user)
    return render(request, "people/activate_password.html", {"form": form, "person": row.user})


# --- Profile: details, language, two-factor, sessions, API tokens --------------------


def _profile_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    user: Any = request.user
    sessions = list(queries.user_sessions(user))
    for session in sessions:
        session.device = device_label(session.user_agent)  # type: ignore[attr-defined]
    return {
        "form": extra.pop("form", None) or ProfileForm(instance=user),
        "token_form": extra.pop("token_form", None) or ApiTokenForm(),
        "has_2fa": credentials.has_confirmed_totp(user),  # type: ignore[arg-type]
        "sessions": sessions,
        "current_session_key": request.session.session_key,
        "tokens": list(queries.api_tokens(user)),  # type: ignore[arg-type]
        "now": timezone.now(),
        **extra,
    }


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    # A ModelForm writes into its instance while validating: give it a copy, the service changes the user.
    form = ProfileForm(request.POST or None, instance=copy.copy(user))
    if request.method == "POST" and form.is_valid():
        credentials.update_profile(user=user, changes={k: form.cleaned_data[k] for k in form.Meta.fields})
        messages.success(request, _("Your profile is saved."))
        return _set_language_cookie(redirect("people:profile"), user)
    return render(request, "people/profile.html", _profile_context(request, form=form))


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change form; the change itself is ``credentials.change_password``: every other
    session ends, every API token is revoked, and the person is told (R1.5, issue 9). This session stays,
    under a new key, so a copy of its old cookie is worthless too."""

    template_name = "people/password_change.html"

    def get_success_url(self) -> str:
        return reverse("people:profile")

    def form_valid(self, form: Any) -> HttpResponse:
        old_key = self.request.session.session_key
        credentials.change_password(
            user=form.user, password=form.cleaned_data["new_password1"], keep_session_key=old_key
        )
        update_session_auth_hash(self.request, form.user)  # cycles the session key
        credentials.rekey_session(old_key=old_key, new_key=self.request.session.session_key)
        messages.success(self.request, _("Your password is changed. You were logged out everywhere else."))
        return redirect(self.get_success_url())


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The header's language switch: sets the cookie and, when logged in, the account's language."""
    response = django_set_language(request)
    if request.user.is_authenticated:
        credentials.set_user_language(user=request.user, language=request.POST.get("language", ""))  # type: ignore[arg-type]
    return response


@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """Set up (secret + QR code, confirmed with a code) or switch off (with a current code) two-factor login."""
    user: Any = request.user
    enabled = credentials.has_confirmed_totp(user)
    form = TOTPCodeForm(request.POST or None)
    action = request.POST.get("action", "")
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        try:
            if enabled and action == "recovery_codes":
                if not credentials.verify_totp(user=user, code=code):
                    raise DomainError(_("The code is not correct."), field="code")
                return _show_recovery_codes(request, credentials.new_recovery_codes(user=user))
            if enabled:
                credentials.disable_totp(user=user, code=code)
                # Every session ended, this one too (issue 9): log in again with the password alone.
                logout(request)
                messages.success(request, _("Two-factor login is switched off. Please log in again."))
                return redirect("people:login")
            else:
                secret = request.session.get(TOTP_SETUP_KEY) or ""
                credentials.confirm_totp_device(user=user, secret=secret, code=code)
                request.session.pop(TOTP_SETUP_KEY, None)
                refresh_policies(request)
                messages.success(request, _("Two-factor login is switched on."))
                return _show_recovery_codes(request, credentials.new_recovery_codes(user=user))
        except DomainError as exc:
            form.add_error("code" if exc.field else None, exc.message)
        else:
            refresh_policies(request)
            return redirect("people:profile")
    context: dict[str, Any] = {"form": form, "enabled": enabled}
    if enabled:
        context["recovery_left"] = credentials.unused_recovery_codes(user)
    if not enabled:
        # The secret waits in the session until confirmed: no half-made device rows.
        secret = request.session.get(TOTP_SETUP_KEY) or credentials.new_totp_secret()
        request.session[TOTP_SETUP_KEY] = secret
        uri = credentials.totp_uri(user, secret)  # type: ignore[arg-type]
        context.update(
            secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            qr_svg=segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff"),
            required=credentials.schools_requiring_2fa(user),  # type: ignore[arg-type]
        )
    return render(request, "people/two_factor.html", context)


def _show_recovery_codes(request: HttpRequest, codes: list[str]) -> HttpResponse:
    """Shown once, never stored in plaintext: the page must not be cached."""
    response = render(request, "people/recovery_codes.html", {"codes": codes})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def end_session(request: HttpRequest, pk: int) -> HttpResponse:
    credentials.end_sessions(user=request.user, only_pk=pk)  # type: ignore[arg-type]
    messages.success(request, _("The session is ended."))
    return redirect("people:profile")


@login_required
@require_POST
def end_other_sessions(request: HttpRequest) -> HttpResponse:
    count = credentials.end_sessions(user=request.user, keep_session_key=request.session.session_key)  # type: ignore[arg-type]
    messages.success(request, _("Other sessions ended: %(count)s.") % {"count": count})
    return redirect("people:profile")


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    """Create a personal API token; the page shows it once and it is never stored in plaintext."""
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            _row, token = credentials.create_api_token(
                user=request.user,  # type: ignore[arg-type]
                name=form.cleaned_data["name"],
                expires_in_days=form.cleaned_data["expires_in_days"],
            )
        except DomainError as exc:
            form.add_error("name", exc.message)
        else:
            response = render(request, "people/profile.html", _profile_context(request, new_token=token))
            response["Cache-Control"] = "no-store"
            return response
    return render(request, "people/profile.html", _profile_context(request, token_form=form), status=400)


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        credentials.revoke_api_token(user=request.user, token_id=pk)  # type: ignore[arg-type]
    except DomainError:
        raise Http404 from None
    messages.success(request, _("The token is revoked."))
    return redirect("people:profile")


# --- Activation codes and slips in a school (R1.2) ---------------------------------------


def _code_classes(ctx: SchoolContext) -> list[tuple[int, str]]:
    """Classes the user may issue family codes for: every class for administrators, the own class otherwise."""
    classes = scopes.classes(ctx).order_by("name")
    if not codes_access.issues_for_every_class(ctx):
        classes = classes.filter(pk__in=ctx.homeroom_class_ids)
    return list(classes.values_list("pk", "name"))


CODES_PER_PAGE = 50


@school_view()
def codes(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The people the user may issue activation codes for, with their credential status: a page of
    ``CODES_PER_PAGE`` people at a time, filtered by class, kind and name."""
    if not codes_access.may_open_codes(ctx):
        raise PermissionDenied
    class_choices = _code_classes(ctx)
    allow_all = codes_access.issues_for_every_class(ctx)
    data = request.GET.copy()
    if not allow_all and not data.get("school_class") and class_choices:
        data["school_class"] = str(class_choices[0][0])
    filters = CodesFilterForm(data, class_choices=class_choices, allow_all=allow_all)
    filters.is_valid()  # an invalid value is dropped; the other filters still apply
    chosen = filters.cleaned_data
    class_id = chosen.get("school_class")
    if class_id is None and not allow_all:
        class_id = class_choices[0][0] if class_choices else -1
    people = queries.filter_people(
        scopes.people_for_codes(ctx),
        school=ctx.school,
        class_id=class_id,
        kind=chosen.get("kind") or "",
        search=chosen.get("q") or "",
    )
    page = Paginator(queries.code_people(people, school=ctx.school), CODES_PER_PAGE).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in chosen.items() if v not in (None, "")})
    context = {
        "rows": queries.rows_for(page.object_list, school=ctx.school),
        "page": page,
        "query": query,
        "filters": filters,
        "now": timezone.now(),
    }
    return render(request, "people/codes.html", context)


@require_POST
@school_view(writes=True)
def codes_slips(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """Issue codes for the selected people and answer with their printable slips as a PDF.

    Everyone selected must be within the user's reach (``access/codes.py``), else 404 and nothing is
    written. The plaintext codes exist only while this response is built: they are never stored, not even
    in the session. If the download is lost, issuing again revokes the lost codes and prints new ones.
    """
    if not codes_access.may_open_codes(ctx):
        raise PermissionDenied
    form = IssueCodesForm(request.POST)
    back = reverse("school_people:codes", kwargs={"school": ctx.school.slug})
    if not form.is_valid():
        for error in form.non_field_errors():
            messages.error(request, str(error))
        return redirect(back)
    ids = form.cleaned_data["ids"]
    people_qs = scopes.people_for_codes(ctx).filter(pk__in=ids)
    rows = queries.code_rows(people_qs, school=ctx.school)
    if len(rows) != len(ids):
        raise Http404  # someone outside the user's reach: unknown and forbidden look the same
    try:
        issued = credentials.issue_activation_codes(
            acting_user=request.user,  # type: ignore[arg-type]
            school=ctx.school,
            users=[row.user for row in rows],
        )
    except DomainError as exc:
        if exc.code == "not_found":
            raise Http404 from None
        messages.error(request, exc.message)
        return redirect(back)
    describe = {row.user.pk: row.describe for row in rows}
    slips = [
        {"person": item.user, "describe": describe[item.user.pk], "code": item.code, "expires_at": item.expires_at}
        for item in issued
    ]
    pdf = _render_slips_pdf(request, ctx, slips)
    filename = f"activation-slips-{ctx.school.slug}-{timezone.localdate().isoformat()}.pdf"
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@school_view(writes=True)
def codes_revoke(request: HttpRequest, ctx: SchoolContext, user_id: int) -> HttpResponse:
    """Withdraw a person's unused codes (a lost slip): the same reach as issuing them."""
    if not codes_access.may_open_codes(ctx):
        raise PermissionDenied
    person = scopes.get_or_404(scopes.people_for_codes(ctx), pk=user_id)
    try:
        count = credentials.revoke_activation_codes(acting_user=request.user, school=ctx.school, user=person)  # type: ignore[arg-type]
    except DomainError:
        raise Http404 from None
    messages.success(request, _("Codes withdrawn: %(count)s.") % {"count": count})
    return redirect("school_people:codes", school=ctx.school.slug)


def _render_slips_pdf(request: HttpRequest, ctx: SchoolContext, slips: list[dict[str, Any]]) -> bytes:
    from weasyprint import HTML  # imported here: slow to import, needed only for printing

    # Sheets of 4 rows × 2 slips; the last sheet is padded with empty cells so the cut lines stay whole.
    per_sheet, per_row = 8, 2
    padded: list[dict[str, Any] | None] = [*slips, *[None] * (-len(slips) % per_row)]
    rows = [padded[i : i + per_row] for i in range(0, len(padded), per_row)]
    sheets = [rows[i : i + per_sheet // per_row] for i in range(0, len(rows), per_sheet // per_row)]
    html = render_to_string(
        "people/slips_pdf.html",
        {
            "school": ctx.school,
            "sheets": sheets,
            "login_url": request.build_absolute_uri(reverse("people:activate")),
        },
        request=request,
    )
    return HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
