"""Every domain's router is added here, one line each."""

from __future__ import annotations

from ninja import NinjaAPI


def register_routers(api: NinjaAPI) -> None:
    from classbook.api.routes import me, schools, timetable

    api.add_router("/me", me.router)
    api.add_router("/schools", schools.router)
    api.add_router("/schools", timetable.router)
