"""Every domain's router is added here, one line each."""

from __future__ import annotations

from ninja import NinjaAPI


def register_routers(api: NinjaAPI) -> None:
    from classbook.api.routes import (
        appeals,
        audit,
        diary,
        journal,
        me,
        messaging,
        notifications,
        people,
        planning,
        reports,
        reports_attendance,
        reports_authority,
        reports_curriculum,
        reports_filling,
        reports_runs,
        roster,
        schools,
        signing,
        timetable,
        tokens,
        webhooks,
        year_opening,
    )

    api.add_router("/me", notifications.me_router)  # /me/notification-preferences, /me/telegram
    api.add_router("/me", me.router)
    api.add_router("/tokens", tokens.router)
    api.add_router("/schools", schools.router)
    api.add_router("/schools", roster.router)  # /schools/{school}/staff|students/...
    api.add_router("/schools", journal.router)  # /schools/{school}/journal/...
    api.add_router("/schools", timetable.router)  # /schools/{school}/timetable/...
    api.add_router("/schools", year_opening.router)  # /schools/{school}/year-opening
    api.add_router("/schools", notifications.router)  # /schools/{school}/notifications, .../classes/{id}/notices
    api.add_router("/schools", appeals.router)  # /schools/{school}/appeals/...
    api.add_router("/schools", messaging.router)  # /schools/{school}/messages|announcements|forum/...
    api.add_router("/schools", diary.router)  # /schools/{school}/diary/...
    api.add_router("/schools", planning.router)  # /schools/{school}/plans/...
    api.add_router("/schools", people.router)  # /schools/{school}/accounts/... (deactivation, two-factor reset)
    api.add_router("/schools", audit.router)  # /schools/{school}/audit
    api.add_router("/schools", reports.router)  # /schools/{school}/reports/progress|summary
    api.add_router("/schools", reports_attendance.router)  # /schools/{school}/reports/attendance...
    api.add_router("/schools", reports_filling.router)  # /schools/{school}/reports/journal-filling|user-activity
    api.add_router("/schools", reports_runs.router)  # /schools/{school}/reports/runs (issue 11)
    api.add_router("/authorities", reports_authority.router)  # /authorities/{id}/reports/compare (issue 11)
    api.add_router(
        "/schools", reports_curriculum.router
    )  # /schools/{school}/reports/curriculum|year-table|group-results
    api.add_router("/schools", webhooks.router)  # /schools/{school}/webhooks/...
    api.add_router("/schools", signing.router)  # /schools/{school}/signing/certificate(s) (issue 12)

    from classbook.api.routes import printing, reports_usage

    api.add_router("/schools", printing.router)  # /schools/{school}/print/... (issue 12, R6.6)

    api.add_router("/schools", reports_usage.router)  # /schools/{school}/reports/usage (R9.2)

    from classbook.api.routes import archive

    api.add_router("/schools", archive.router)  # /schools/{school}/archives/... (issue 12)
    # The forecast of period grades (R6.5): /schools/{school}/reports/forecast/journals/{id}|at-risk
    from classbook.api.routes import records, reports_forecast

    api.add_router("/schools", records.router)  # /schools/{school}/orders|years/{id}/close|students/{id}/personal-file

    api.add_router("/schools", reports_forecast.router)

    # The roster's books (issue 13): certificates issued, parents' change requests, the change feed.
    from classbook.api.routes import roster_books

    api.add_router("/schools", roster_books.router)

    from classbook.api.routes import materials

    api.add_router("/schools", materials.router)  # /schools/{school}/materials... (R8.1)

    # OneRoster 1.2 CSV export/import and the provider's clients (issue 13): /schools/{school}/oneroster/...
    from classbook.api.routes import oneroster

    api.add_router("/schools", oneroster.router)

    # Surveys (issue 16, R9.3): /schools/{school}/surveys/open|{id}/responses|{id}/results
    from classbook.api.routes import surveys

    api.add_router("/schools", surveys.router)

    # School documents (issue 16, R8.3): /schools/{school}/documents|{id}/download|versions/{id}/download
    from classbook.api.routes import documents

    api.add_router("/schools", documents.router)
    # Portfolios (issue 16, R8.2): /schools/{school}/portfolios/students/{id}
    from classbook.api.routes import portfolios

    api.add_router("/schools", portfolios.router)
