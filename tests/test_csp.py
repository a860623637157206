"""The strict Content-Security-Policy and the other security headers, and the offline API docs.

The header on every page each persona can reach is asserted by tests/test_smoke_crawl.py; here: the
exact policy on a sample of every app's pages (and error pages, the API and its docs), the headers
beside it, Swagger UI served from our static files, and - in Debian's chromium - no page breaking the
policy (a ``securitypolicyviolation`` event or a console error) while its behaviours still work.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re

import pytest
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import reverse

from classbook.core.headers import SecurityHeadersMiddleware, build_policy
from classbook.core.inline_styles import style_sources
from tests import factories as f
from tests.conftest import client_for
from tests.test_templates_no_inline import inline_problems

STRICT = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    # The site's own stylesheets inlined into the page (issue 14: no round trip before the first paint), each
    # allowed by its hash; style= attributes and any other <style> stay refused.
    "style-src": ["'self'", *style_sources()],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
CHROMIUM = "/usr/bin/chromium"


def parse_policy(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in filter(str.strip, header.split(";")):
        name, *sources = part.split()
        assert name not in directives, f"{name} twice in {header}"
        directives[name] = sources
    return directives


STYLE_ELEMENT = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def disallowed_styles(html: str, header: str) -> list[str]:
    """The ``<style>`` elements of ``html`` whose SHA-256 the policy ``header`` does not allow (the browser would
    drop them: a page without its design)."""
    allowed = set(parse_policy(header).get("style-src", []))
    return [
        text[:60]
        for text in STYLE_ELEMENT.findall(html)
        if f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'" not in allowed
    ]


def assert_strict(response: HttpResponse) -> None:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.status_code} {response.get('Content-Type')}"
    assert parse_policy(header) == STRICT
    assert "unsafe" not in header
    if "text/html" in response.get("Content-Type", "") and not response.streaming:
        assert not disallowed_styles(response.content.decode(), header)


def sample_pages(world) -> list[tuple[str, str]]:
    """(persona, url) for pages of every app, as the people who use them."""
    s = world.school.slug
    assignment = world.teacher.teaching_assignments.get()
    return [
        ("anonymous", reverse("people:login")),
        ("anonymous", reverse("people:activate")),
        ("admin", reverse("home")),
        ("admin", reverse("people:profile")),
        ("admin", reverse("people:two_factor")),
        ("admin", reverse("school_people:codes", args=[s])),
        ("admin", reverse("schools:dashboard", args=[s])),
        ("admin", reverse("schools:open_year", args=[s])),
        ("admin", reverse("roster:students", args=[s])),
        ("admin", reverse("roster:student", args=[s, world.student.pk])),
        ("admin", reverse("roster:book", args=[s])),
        ("admin", reverse("roster:student_import", args=[s])),
        ("admin", reverse("roster:consents", args=[s])),
        ("admin", reverse("timetable:generate", args=[s])),
        ("teacher", reverse("journal:grid", args=[s, assignment.pk])),
        ("teacher", reverse("timetable:my", args=[s])),
        ("teacher", reverse("timetable:calendar", args=[s])),
        ("teacher", reverse("planning:index", args=[s])),
        ("class_teacher", reverse("roster:class", args=[s, world.class_a.pk])),
        ("class_teacher", reverse("appeals:absences", args=[s])),
        ("parent", reverse("diary:student", args=[s, world.student.pk])),
        ("parent", reverse("messaging:inbox", args=[s])),
        ("parent", reverse("notifications:preferences", args=[s])),
        ("director", reverse("journal:index", args=[s])),
        ("viewer", reverse("home")),
        ("admin", "/api/v1/docs"),
    ]


@pytest.mark.django_db
def test_every_apps_pages_send_the_strict_policy(world):
    for persona, url in sample_pages(world):
        response = client_for(world.persona(persona)).get(url, follow=True)
        assert response.status_code == 200, (persona, url, response.status_code)
        assert "text/html" in response["Content-Type"], url
        assert_strict(response)


@pytest.mark.django_db
def test_error_pages_api_answers_and_static_files_send_it_too(world):
    admin = client_for(world.admin)
    for response in (
        admin.get("/no-such-page/"),
        admin.get(reverse("roster:student", args=[world.school.slug, world.foreign_student.pk])),  # 404
        client_for(world.parent).get(reverse("school_people:codes", args=[world.school.slug])),  # refused
        admin.get(f"/api/v1/schools/{world.school.slug}/classes"),
        Client().get("/api/v1/me"),  # 401 JSON
        Client().get("/static/classbook/app.css"),
    ):
        assert response.status_code in (200, 401, 403, 404), response.status_code
        assert_strict(response)
        response.close()


@pytest.mark.django_db
def test_the_headers_beside_the_policy(world):
    response = client_for(world.parent).get(reverse("diary:student", args=[world.school.slug, world.student.pk]))
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    features = dict(item.strip().split("=") for item in response["Permissions-Policy"].split(","))
    assert {"camera", "microphone", "geolocation", "payment", "usb"} <= set(features)
    assert set(features.values()) == {"()"}


def test_pdfs_are_sent_without_the_policy_and_a_views_own_policy_is_kept():
    def pdf(request: HttpRequest) -> HttpResponse:
        return HttpResponse(b"%PDF-1.7", content_type="application/pdf")

    def own(request: HttpRequest) -> HttpResponse:
        response = HttpResponse("<p>")
        response["Content-Security-Policy"] = "default-src 'none'"
        return response

    assert "Content-Security-Policy" not in SecurityHeadersMiddleware(pdf)(HttpRequest())
    assert SecurityHeadersMiddleware(own)(HttpRequest())["Content-Security-Policy"] == "default-src 'none'"


def test_build_policy():
    assert build_policy({"default-src": ["'self'"], "img-src": "data:", "upgrade-insecure-requests": True}) == (
        "default-src 'self'; img-src data:; upgrade-insecure-requests"
    )
    assert build_policy({"default-src": ["'self'"], "report-uri": []}) == "default-src 'self'"


# --- /api/v1/docs offline ----------------------------------------------------------------------


def asset_urls(html: str) -> list[str]:
    return re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']+)["']""", html)


@pytest.mark.django_db
def test_the_api_docs_load_nothing_from_another_host_and_their_assets_are_served(world):
    client = client_for(world.teacher)
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    urls = asset_urls(html)
    assert len(urls) >= 4  # Swagger UI's script, its start-up script, its styles, the icons
    assert not re.search(r"(?:https?:)?//", html.replace("http://www.w3.org", "")), "a URL of another host"
    assert all(u.startswith("/static/") for u in urls), urls
    assert not inline_problems(html)
    assert any(u.endswith("swagger-ui-bundle.js") for u in urls)
    assert any(u.endswith("swagger-ui-init.js") for u in urls)
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert b"".join(asset.streaming_content if asset.streaming else [asset.content]), url
    assert client.get("/api/v1/openapi.json").status_code == 200


# --- In the browser ------------------------------------------------------------------------------

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  var where = (e.sourceFile || "") + ":" + e.lineNumber;
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + where);
});
"""


@pytest.fixture
def chromium():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        yield browser
        browser.close()
        connections.close_all()  # the live server's threads held connections; PostgreSQL drops the test DB


class Watched:
    """A browser page as one persona, which records every CSP violation, console error and script error."""

    def __init__(self, browser, live_server, user) -> None:
        self.context = browser.new_context(locale="uk-UA")
        self.base = live_server.url
        if user is not None:
            client = Client()
            client.force_login(user)
            self.context.add_cookies(
                [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": self.base}]
            )
        self.context.add_init_script(RECORD_VIOLATIONS)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15000)
        self.errors: list[str] = []
        # A missing /favicon.ico (the browser asks on its own) is not the page's fault.
        self.page.on(
            "console",
            lambda m: (
                m.type == "error"
                and "favicon.ico" not in str(m.location)
                and self.errors.append(f"console: {m.text} {m.location}")
            ),
        )
        self.page.on("pageerror", lambda e: self.errors.append(f"script: {e}"))

    def on_console(self, message) -> None:
        if message.type == "error" and "favicon.ico" not in str(message.location):
            self.errors.append(f"console: {message.text} {message.location}")

    def visit(self, url: str):
        response = self.page.goto(self.base + url)
        assert response is not None and response.status == 200, url
        self.page.wait_for_load_state("networkidle")
        return self.page

    def problems(self) -> list[str]:
        return self.page.evaluate("window.__csp") + self.errors


@pytest.mark.browser
@pytest.mark.skipif(
    connections["default"].vendor == "postgresql",
    reason="what the browser enforces (the policy, the pages' scripts) does not depend on the engine: SQLite only",
)
@pytest.mark.django_db(transaction=True)
def test_the_main_pages_break_no_rule_of_the_policy_and_keep_their_behaviour(world, live_server, chromium):
    f.make_grid(world.teacher.teaching_assignments.get(), students=2, lessons=2)
    pages: dict[str | None, list[str]] = {}
    for persona, url in sample_pages(world):
        pages.setdefault(persona, []).append(url)
    problems: dict[str, list[str]] = {}
    for persona, urls in pages.items():
        watched = Watched(chromium, live_server, world.persona(persona))
        for url in urls:
            watched.visit(url)
            check_behaviour(watched.page, url, world)
            if found := watched.problems():
                problems[f"{persona} {url}"] = found
            watched.errors.clear()
        watched.context.close()
    assert not problems, problems


def check_behaviour(page, url: str, world) -> None:
    """The behaviours moved out of inline script still work (and the 2FA QR code and API docs show)."""
    s = world.school.slug
    if url == reverse("school_people:codes", args=[s]) and page.locator("input[data-check-all]").count():
        page.locator("input[data-check-all]").check()
        boxes = page.locator("input[name=user]")
        assert boxes.count() and all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    elif url == reverse("timetable:generate", args=[s]):
        page.locator("a[data-fill]").first.click()
        assert page.locator("#id_start").input_value() == "2026-09-01"
        assert page.locator("#id_end").input_value() == "2026-12-26"
        assert "start=" not in page.url  # filled in place, the link not followed
    elif url == reverse("people:two_factor"):
        box = page.locator("svg.segno").bounding_box()
        assert box and box["width"] > 100
    elif url == "/api/v1/docs":
        page.locator(".swagger-ui .info .title").wait_for(timeout=30000)  # a large bundle on a busy machine
        assert page.locator(".opblock").count() > 10
    elif url == reverse("timetable:my", args=[s]):
        page.locator("input[name=date][data-autosubmit]").fill("2026-09-10")
        page.wait_for_url(re.compile(r"date=2026-09-10"))
    elif url == reverse("roster:student_import", args=[s]):
        # The form shows its progress line and disables its buttons, yet the pressed button still goes
        # along: "Check the file" checks (a lost button would import the list and leave the page).
        csv = "class;last_name;first_name\n5-А;Шевченко;Тарас\n".encode()
        page.set_input_files("input[type=file]", files=[{"name": "list.csv", "mimeType": "text/csv", "buffer": csv}])
        page.locator("button[name=check]").click()
        page.locator("#report .badge").wait_for()
        assert page.url.endswith(url)
    elif url == reverse("people:login"):
        with page.expect_navigation():  # the switch submits its form; wait for the answer, not for idleness
            page.select_option("select[name=language]", "en")
        page.wait_for_load_state("networkidle")
        assert page.locator("html").get_attribute("lang") == "en"
