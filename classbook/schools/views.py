"""School pages: the list of the user's schools and a school's dashboard."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from classbook.access.context import SchoolContext, user_schools
from classbook.access.decorators import school_view


@login_required
def home(request: HttpRequest) -> HttpResponse:
    schools = user_schools(request.user)
    if len(schools) == 1:
        return redirect("schools:dashboard", school=schools[0].slug)
    return render(request, "schools/home.html", {"schools": schools})


@school_view()
def dashboard(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    return render(request, "schools/dashboard.html", {})
