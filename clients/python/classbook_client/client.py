"""The client: one ``Client`` per server and token; typed methods for the main operations, ``call`` for
everything else, ``paginate`` for lists."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from classbook_client import types
from classbook_client.errors import error_for

__all__ = ["Client", "Response"]

VERSION = "1.0.0"
Params = Mapping[str, str | int | bool | dt.date | None]


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # lower-case names
    data: Any  # the decoded JSON, or None for an empty answer (204)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect would resend the token to wherever it points: report it instead of following it.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Client:
    """``Client("https://journal.example.org", token="cb_...")``; paths are relative to ``/api/v1``."""

    def __init__(self, base_url: str, token: str | None = None, *, timeout: float = 30, language: str | None = None):
        self.base_url = base_url.rstrip("/") + "/api/v1"
        self.token = token
        self.timeout = timeout
        self.language = language
        self._opener = urllib.request.build_opener(_NoRedirect)

    # --- generic ---------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, params: Params | None = None, json_body: Any = None) -> Response:
        """One request; a non-2xx answer raises the ``ApiError`` subclass of its status."""
        url = self.base_url + "/" + path.lstrip("/")
        query = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in (params or {}).items() if v is not None}
        if query:
            url += "?" + urllib.parse.urlencode(
                {k: str(v).lower() if isinstance(v, bool) else v for k, v in query.items()}
            )
        headers = {"Accept": "application/json", "User-Agent": f"classbook-client/{VERSION}"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.language:
            headers["Accept-Language"] = self.language
        data = None
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, headers=headers, method=method.upper())  # noqa: S310 - http(s) only, the caller's server
        try:
            with self._opener.open(req, timeout=self.timeout) as answer:
                response = self._response(answer.status, answer.headers.items(), answer.read())
        except urllib.error.HTTPError as failed:  # every status but 2xx, redirects included (not followed)
            response = self._response(failed.code, failed.headers.items(), failed.read())
        if not 200 <= response.status < 300:
            raise error_for(response.status, response.data, response.headers)
        return response

    @staticmethod
    def _response(status: int, headers: Any, raw: bytes) -> Response:
        names = {k.lower(): v for k, v in headers}
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = raw.decode(errors="replace")
        return Response(status, names, data)

    def call(self, method: str, path: str, *, params: Params | None = None, json_body: Any = None) -> Any:
        """Any operation of the API (see ``/api/v1/docs``): the decoded JSON answer."""
        return self.request(method, path, params=params, json_body=json_body).data

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params=params)

    def paginate(self, path: str, params: Params | None = None, *, page_size: int = 50) -> Iterator[Any]:
        """Every item of a ``limit``/``offset`` list (``{"items": [...], "count" or "total": n}``), page by page."""
        offset = 0
        while True:
            page = self.call("GET", path, params={**(params or {}), "limit": page_size, "offset": offset})
            items = page.get("items", []) if isinstance(page, dict) else []
            yield from items
            offset += len(items)
            total = page.get("total", page.get("count")) if isinstance(page, dict) else None
            if not items or len(items) < page_size or (isinstance(total, int) and offset >= total):
                return

    # --- typed operations --------------------------------------------------------------------------

    def me(self) -> types.Me:
        return cast(types.Me, self.get("/me"))

    def journal_assignments(self, school: str) -> list[types.Assignment]:
        """The journals the caller may open in ``school``."""
        return cast(list[types.Assignment], self.get(f"/schools/{school}/journal/assignments"))

    def journal_grid(self, school: str, assignment_id: int, period_id: int) -> types.Grid:
        """One journal's grid for one study period: students, lessons, marks, attendance, period grades."""
        return cast(
            types.Grid, self.get(f"/schools/{school}/journal/assignments/{assignment_id}/grid", period=period_id)
        )

    def set_mark(
        self, school: str, lesson_id: int, student_id: int, text: str, expected_version: int, **options: Any
    ) -> types.Mark:
        """Set, change or clear (``text=""``) a mark; ``expected_version`` is the version you read (0: empty).
        A stale version raises ``Conflict`` with the cell's ``current`` value. Options: ``work_type``,
        ``slot``, ``comment``, ``reason``, ``replace``."""
        body = {"student": student_id, "text": text, "expected_version": expected_version, **options}
        return cast(
            types.Mark, self.call("PUT", f"/schools/{school}/journal/lessons/{lesson_id}/marks", json_body=body)
        )

    def set_attendance(
        self, school: str, lesson_id: int, student_id: int, text: str, expected_version: int, **options: Any
    ) -> types.Attendance:
        """Record an attendance code (``text``, e.g. the school's code for absent) or presence (``text=""``)."""
        body = {"student": student_id, "text": text, "expected_version": expected_version, **options}
        path = f"/schools/{school}/journal/lessons/{lesson_id}/attendance"
        return cast(types.Attendance, self.call("PUT", path, json_body=body))

    def diary_students(self, school: str) -> list[dict[str, Any]]:
        """The students whose diary the caller may open (their own, their children, their class)."""
        return cast(list[dict[str, Any]], self.get(f"/schools/{school}/diary/students"))

    def diary_week(self, school: str, student_id: int, day: dt.date | None = None) -> types.DiaryWeek:
        """The week of ``day`` (today by default) of a student's diary."""
        return cast(types.DiaryWeek, self.get(f"/schools/{school}/diary/{student_id}/week", date=day))
