from django.contrib import admin
from django.urls import include, path

from classbook.api.api import api
from classbook.core import health, metrics
from classbook.diary import pwa
from classbook.schools import views as school_views
from classbook.timetable import views as timetable_views

urlpatterns = [
    path("", school_views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    # At the root: a service worker controls only pages under its script's folder (docs/diary.md).
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("manifest.webmanifest", pwa.manifest, name="web_manifest"),
    path("accounts/", include("classbook.people.urls")),
    # Before the schools' URLs: their generic "manage/<section>/" would take "manage/journal/".
    path("s/<slug:school>/manage/journal/", include("classbook.journal.settings_urls")),
    path("s/<slug:school>/", include("classbook.schools.urls")),
    path("s/<slug:school>/people/", include("classbook.people.school_urls")),
    path("s/<slug:school>/roster/", include("classbook.roster.urls")),
    path("s/<slug:school>/journal/", include("classbook.journal.urls")),
    path("s/<slug:school>/control/", include("classbook.journal.remarks_urls")),
    path("s/<slug:school>/timetable/", include("classbook.timetable.urls")),
    path("s/<slug:school>/plans/", include("classbook.planning.urls")),
    path("s/<slug:school>/notifications/", include("classbook.notifications.urls")),
    path("notifications/", include("classbook.notifications.webhook_urls")),
    path("s/<slug:school>/appeals/", include("classbook.appeals.urls")),
    path("s/<slug:school>/surveys/", include("classbook.surveys.urls")),
    path("s/<slug:school>/documents/", include("classbook.documents.urls")),
    path("s/<slug:school>/portfolios/", include("classbook.portfolios.urls")),
    path("s/<slug:school>/materials/", include("classbook.materials.urls")),
    path("s/<slug:school>/", include("classbook.messaging.urls")),
    path("s/<slug:school>/diary/", include("classbook.diary.urls")),
    path("s/<slug:school>/reports/", include("classbook.reports.urls")),
    path("s/<slug:school>/archive/", include("classbook.archive.urls")),
    path("s/<slug:school>/print/", include("classbook.printing.urls")),
    path("s/<slug:school>/records/", include("classbook.records.urls")),
    path("s/<slug:school>/oneroster/", include("classbook.oneroster.page_urls")),
    path("authority/<int:authority_id>/reports/", include("classbook.reports.authority_urls")),
    path("timetable/ical/<str:token>.ics", timetable_views.ical_feed, name="timetable-ical"),
    path("api/v1/", api.urls),
    # OneRoster 1.2 REST provider and its OAuth 2.0 token endpoint (issue 13, docs/oneroster.md).
    path("ims/oneroster/", include("classbook.oneroster.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("django-admin/", admin.site.urls),
    path("s/<slug:school>/audit/", include("classbook.audit.urls")),
    path("s/<slug:school>/webhooks/", include("classbook.webhooks.urls")),
    path("s/<slug:school>/signing/", include("classbook.signing.urls")),
    # Help for every role (R9.4, docs/help.md): outside a school the activation and login articles.
    path("help/", include("classbook.help.urls")),
    path("s/<slug:school>/help/", include("classbook.help.school_urls")),
]

# Error answers: the API's JSON error on /api/, translated pages elsewhere (classbook/core/http_errors.py).
handler400 = "classbook.core.http_errors.bad_request"
handler403 = "classbook.core.http_errors.permission_denied"
handler404 = "classbook.core.http_errors.page_not_found"
handler500 = "classbook.core.http_errors.server_error"
