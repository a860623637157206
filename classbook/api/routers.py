"""Every domain's router is added here, one line each."""

from __future__ import annotations

from ninja import NinjaAPI


def register_routers(api: NinjaAPI) -> None:
    from classbook.api.routes import journal, me, planning, roster, schools, timetable, tokens, year_opening

    api.add_router("/me", me.router)
    api.add_router("/tokens", tokens.router)
    api.add_router("/schools", schools.router)
    api.add_router("/schools", roster.router)  # /schools/{school}/staff|students/...
    api.add_router("/schools", journal.router)  # /schools/{school}/journal/...
    api.add_router("/schools", timetable.router)  # /schools/{school}/timetable/...
    api.add_router("/schools", year_opening.router)  # /schools/{school}/year-opening
    api.add_router("/schools", planning.router)  # /schools/{school}/plans/...
