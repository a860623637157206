"""Pages of messages (R5.3), announcements and events, and the school forum (R5.4).

Thin: rows come from ``classbook.access.messaging`` scopes, writes go through ``services``; anything the
user may not see is 404, whatever the id.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from classbook.access import messaging as rules
from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.access.scopes import directory, get_or_404
from classbook.core import uploads
from classbook.core.collation import name_order
from classbook.core.errors import DomainError
from classbook.messaging import queries, services
from classbook.messaging.forms import AnnouncementForm, ConversationForm, MessageForm, ReplyForm, TopicForm
from classbook.messaging.models import Audience
from classbook.schools.models import YearLevel

# What the file field's help text says (the service checks the same numbers and kinds).
FILE_HINTS = {"max_files": services.MAX_FILES, "file_kinds": services.POLICY.labels}


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _form_error(form: Any, exc: DomainError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, str(exc.message))


def _messaging_member(ctx: SchoolContext) -> None:
    """Conversations and the forum are for the school's own people; a read-only viewer has none."""
    if not rules.may_use_messaging(ctx):
        raise PermissionDenied


# --- conversations --------------------------------------------------------------------------------


@require_GET
@school_view()
def inbox(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    _messaging_member(ctx)
    page, rows = queries.inbox(ctx, request.GET.get("page"))
    return render(
        request,
        "messaging/inbox.html",
        {
            "page": page,
            "rows": rows,
            "unanswered": rules.unanswered(ctx).count() if rules.may_watch_unanswered(ctx) else 0,
            "school_unanswered": rules.school_unanswered_count(ctx),
        },
    )


@require_GET
@school_view()
def unread_badge(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The unread counter of the navigation, loaded by htmx so that pages do not pay for it."""
    count = rules.unread_count(ctx) if rules.may_use_messaging(ctx) else 0
    return HttpResponse(f'<span class="badge">{count}</span>' if count else "")


@school_view(writes=True)
def new_conversation(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    students = rules.conversation_students(ctx).order_by(*name_order("user__"))
    student_id = _int(request.GET.get("student") or request.POST.get("student"))
    student = get_or_404(students, pk=student_id) if student_id else None
    if student is None and not rules.writes_about_nobody(ctx):
        own = list(students[:2])
        if len(own) == 1:
            student = own[0]
    users = list(rules.recipient_choices(ctx, student)) if (student or rules.writes_about_nobody(ctx)) else []
    recipients = queries.recipients_for(ctx, users, student)
    to = _int(request.GET.get("to"))
    form = ConversationForm(
        request.POST or None,
        request.FILES or None,
        recipients=recipients,
        initial={"recipients": [to] if to else []},
    )
    if request.method == "POST" and form.is_valid():
        try:
            conversation = services.start_conversation(
                ctx,
                recipient_ids=form.cleaned_data["recipients"],
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                student=student,
                files=form.cleaned_data["files"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Message sent."))
            return redirect("messaging:conversation", school=ctx.school.slug, conversation_id=conversation.pk)
    return render(
        request,
        "messaging/new.html",
        {
            "form": form,
            "students": students if (rules.writes_about_nobody(ctx) or len(students) > 1) else [],
            "student": student,
            "needs_student": student is None and not rules.writes_about_nobody(ctx),
            **FILE_HINTS,
        },
    )


@require_GET
@school_view()
def conversation(request: HttpRequest, ctx: SchoolContext, conversation_id: int) -> HttpResponse:
    conv = get_or_404(rules.conversations(ctx), pk=conversation_id)
    detail = queries.conversation_detail(ctx, conv, request.GET.get("page"))
    if rules.may_use_messaging(ctx):
        services.mark_read(ctx, conversation=conv)
    return render(
        request,
        "messaging/conversation.html",
        {"conversation": conv, "form": MessageForm(), **FILE_HINTS, **detail},
    )


@require_POST
@school_view(writes=True)
def reply(request: HttpRequest, ctx: SchoolContext, conversation_id: int) -> HttpResponse:
    conv = get_or_404(rules.conversations(ctx), pk=conversation_id)
    form = MessageForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.post_message(
                ctx, conversation=conv, body=form.cleaned_data["body"], files=form.cleaned_data["files"]
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            return redirect(reverse("messaging:conversation", args=[ctx.school.slug, conv.pk]) + "#last")
    detail = queries.conversation_detail(ctx, conv)
    return render(
        request,
        "messaging/conversation.html",
        {"conversation": conv, "form": form, **FILE_HINTS, **detail},
        status=422,
    )


@require_GET
@school_view()
def attachment(request: HttpRequest, ctx: SchoolContext, file_id: int) -> FileResponse:
    found = get_or_404(rules.message_attachments(ctx), pk=file_id)
    return uploads.file_response(found.file, name=found.original_name, mime=found.mime_type)


@require_GET
@school_view(rule=rules.may_watch_unanswered)
def unanswered(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """Parents' messages waiting for an answer longer than 3 days (R5.3)."""
    return render(
        request,
        "messaging/unanswered.html",
        {"rows": list(rules.unanswered(ctx)[:200]), "school_unanswered": rules.school_unanswered_count(ctx)},
    )


# --- announcements and events ---------------------------------------------------------------------


@require_GET
@school_view()
def announcements(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    return render(
        request,
        "messaging/announcements.html",
        {
            "page": queries.announcement_list(ctx, request.GET.get("page")),
            "may_publish": rules.may_publish(ctx),
            "may_publish_any": rules.may_publish_any(ctx),
        },
    )


@require_GET
@school_view()
def announcement(request: HttpRequest, ctx: SchoolContext, announcement_id: int) -> HttpResponse:
    found = get_or_404(rules.announcements(ctx), pk=announcement_id)
    return render(
        request,
        "messaging/announcement.html",
        {"a": found, "may_withdraw": found.withdrawn_at is None and rules.may_withdraw(ctx, found)},
    )


@school_view(writes=True)
def new_announcement(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    if not rules.may_publish(ctx):
        raise PermissionDenied
    any_audience = rules.may_publish_any(ctx)
    levels = list(directory(ctx, YearLevel)) if any_audience else []
    classes = list(rules.publishable_classes(ctx))
    audiences = Audience.values if any_audience else [Audience.CLASS]
    form = AnnouncementForm(request.POST or None, audiences=audiences, levels=levels, classes=classes)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            level_id, class_id = data["year_level"], data["school_class"]
            created = services.publish_announcement(
                ctx,
                audience=data["audience"],
                title=data["title"],
                body=data["body"],
                year_level=get_or_404(directory(ctx, YearLevel), pk=level_id) if level_id else None,
                school_class=get_or_404(rules.publishable_classes(ctx), pk=class_id) if class_id else None,
                event_start=data["event_start"],
                event_end=data["event_end"],
                place=data["place"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The announcement is published."))
            return redirect("messaging:announcement", school=ctx.school.slug, announcement_id=created.pk)
    return render(request, "messaging/announcement_form.html", {"form": form})


@require_POST
@school_view(writes=True)
def withdraw_announcement(request: HttpRequest, ctx: SchoolContext, announcement_id: int) -> HttpResponse:
    found = get_or_404(rules.announcements(ctx), pk=announcement_id)
    try:
        services.withdraw_announcement(ctx, announcement=found)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The announcement is withdrawn."))
    return redirect("messaging:announcements", school=ctx.school.slug)


# --- the school forum -----------------------------------------------------------------------------


@require_GET
@school_view()
def forum(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    _messaging_member(ctx)
    return render(
        request,
        "messaging/forum.html",
        {"page": queries.forum_index(ctx, request.GET.get("page")), "may_open": rules.may_open_topic(ctx)},
    )


@school_view(writes=True)
def new_topic(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    if not rules.may_open_topic(ctx):
        raise PermissionDenied
    form = TopicForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            topic = services.open_topic(ctx, **form.cleaned_data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            return redirect("messaging:topic", school=ctx.school.slug, topic_id=topic.pk)
    return render(request, "messaging/topic_form.html", {"form": form})


@school_view()
def topic(request: HttpRequest, ctx: SchoolContext, topic_id: int) -> HttpResponse:
    found = get_or_404(rules.forum_topics(ctx), pk=topic_id)
    form = ReplyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not rules.may_use_messaging(ctx):
            raise PermissionDenied
        if form.is_valid():
            try:
                services.post_reply(ctx, topic=found, body=form.cleaned_data["body"])
            except DomainError as exc:
                _form_error(form, exc)
            else:
                return redirect(reverse("messaging:topic", args=[ctx.school.slug, found.pk]) + "#last")
        status = 422
    return render(
        request,
        "messaging/topic.html",
        {
            "topic": found,
            "replies": queries.forum_topic_page(ctx, found),
            "form": form,
            "may_reply": rules.may_reply(ctx, found),
            "may_moderate": rules.may_moderate(ctx),
        },
        status=status,
    )


@require_POST
@school_view(writes=True)
def hide_reply(request: HttpRequest, ctx: SchoolContext, reply_id: int) -> HttpResponse:
    found = get_or_404(rules.forum_replies(ctx), pk=reply_id)
    try:
        services.hide_reply(ctx, reply=found, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return redirect(reverse("messaging:topic", args=[ctx.school.slug, found.topic_id]) + f"#reply-{found.pk}")


@require_POST
@school_view(writes=True)
def close_topic(request: HttpRequest, ctx: SchoolContext, topic_id: int) -> HttpResponse:
    found = get_or_404(rules.forum_topics(ctx), pk=topic_id)
    try:
        services.set_topic_closed(ctx, topic=found, closed=request.POST.get("closed") != "0")
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return redirect("messaging:topic", school=ctx.school.slug, topic_id=found.pk)
