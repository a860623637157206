"""The client: one ``Client`` per server and token; typed methods for the main operations, ``call`` for
everything else, ``paginate`` for every item of a list (it follows the pages' ``next`` links)."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from collections import OrderedDict
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
    data: Any  # the decoded JSON, or None for an empty answer (204, 304)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect would resend the token to wherever it points: report it instead of following it.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Client:
    """``Client("https://journal.example.org", token="cb_...")``; paths are relative to ``/api/v1``.

    ``etag_cache``: how many journal grids and diary weeks to keep with their ``ETag``, so that reading one
    again sends ``If-None-Match`` and a ``304 Not Modified`` answer reuses the kept copy (0: never)."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 30,
        language: str | None = None,
        etag_cache: int = 32,
    ):
        self.base_url = base_url.rstrip("/") + "/api/v1"
        self.token = token
        self.timeout = timeout
        self.language = language
        self.etag_cache = etag_cache
        self._tagged: OrderedDict[str, tuple[str, str]] = OrderedDict()  # url -> (ETag, the answer's JSON)
        self._opener = urllib.request.build_opener(_NoRedirect)

    # --- generic ---------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """One request; a non-2xx answer raises the ``ApiError`` subclass of its status (but ``304 Not
        Modified``, answered only to a conditional request such as ``If-None-Match``: ``data`` is None)."""
        return self._send(method, self._url(path, params), json_body, headers)

    def _url(self, path: str, params: Params | None) -> str:
        url = self.base_url + "/" + path.lstrip("/")
        query = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in (params or {}).items() if v is not None}
        if query:
            url += "?" + urllib.parse.urlencode(
                {k: str(v).lower() if isinstance(v, bool) else v for k, v in query.items()}
            )
        return url

    def _send(self, method: str, url: str, json_body: Any = None, extra: Mapping[str, str] | None = None) -> Response:
        headers = {"Accept": "application/json", "User-Agent": f"classbook-client/{VERSION}", **(extra or {})}
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
        if not (200 <= response.status < 300 or response.status == 304):
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
        """Every item of a list, page by page. Every list answers the envelope ``{"items", "count", "limit",
        "next", "previous"}`` (docs/api.md "Pagination"); this follows each page's ``next`` link until it is
        null, so it walks offset-paged lists and the audit log's keyset pages alike. ``params`` are the list's
        filters and ``sort`` (``{"status": "failed", "sort": "-created_at"}``); ``page_size`` is its ``limit``
        (1-200). A document answered whole (a JSON array) yields its items."""
        url: str | None = self._url(path, {**(params or {}), "limit": page_size})
        visited: set[str] = set()
        while url is not None and url not in visited:
            visited.add(url)
            page = self._send("GET", url).data
            if isinstance(page, list):
                yield from page
                return
            if not isinstance(page, dict):
                return
            yield from page.get("items") or []
            following = page.get("next")
            url = self._follow(following) if isinstance(following, str) and following else None

    def _follow(self, link: str) -> str:
        """A page's ``next`` (a path and query on this server) as a URL; never another server (the token)."""
        url = urllib.parse.urljoin(self.base_url + "/", link)
        if urllib.parse.urlsplit(url)[:2] != urllib.parse.urlsplit(self.base_url)[:2]:
            raise ValueError(f"refusing to follow a page link to another server: {link!r}")
        return url

    def _page(self, path: str, limit: int | None, offset: int | None, sort: str | None, **filters: Any) -> Any:
        return self.call("GET", path, params={**filters, "limit": limit, "offset": offset, "sort": sort})

    def _get_tagged(self, path: str, params: Params) -> Any:
        """A GET that answers an ``ETag``: sends ``If-None-Match`` with the kept tag and, on ``304``, returns
        the kept answer (a fresh copy: the caller may change what it gets)."""
        url = self._url(path, params)
        kept = self._tagged.get(url) if self.etag_cache > 0 else None
        response = self._send("GET", url, extra={"If-None-Match": kept[0]} if kept else None)
        if response.status == 304 and kept is not None:
            self._tagged.move_to_end(url)
            return json.loads(kept[1])
        tag = response.headers.get("etag")
        if tag and self.etag_cache > 0:
            self._tagged[url] = (tag, json.dumps(response.data))
            self._tagged.move_to_end(url)
            while len(self._tagged) > self.etag_cache:
                self._tagged.popitem(last=False)
        return response.data

    # --- typed operations --------------------------------------------------------------------------
    # A list answers one page (``types.Page``: ``items``, ``count``, ``limit``, ``next``, ``previous``); pass
    # ``limit``/``offset``/``sort``, or use ``paginate`` with the same path for every item.

    def me(self) -> types.Me:
        return cast(types.Me, self.get("/me"))

    def journal_assignments(
        self, school: str, *, limit: int | None = None, offset: int | None = None, sort: str | None = None
    ) -> types.Page[types.Assignment]:
        """A page of the journals the caller may open in ``school``."""
        path = f"/schools/{school}/journal/assignments"
        return cast(types.Page[types.Assignment], self._page(path, limit, offset, sort))

    def journal_grid(self, school: str, assignment_id: int, period_id: int) -> types.Grid:
        """One journal's grid for one study period: students, lessons, marks, attendance, period grades.
        Read again, it costs the server little when nothing changed (``If-None-Match``, ``304``)."""
        path = f"/schools/{school}/journal/assignments/{assignment_id}/grid"
        return cast(types.Grid, self._get_tagged(path, {"period": period_id}))

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

    def diary_students(
        self, school: str, *, limit: int | None = None, offset: int | None = None, sort: str | None = None
    ) -> types.Page[dict[str, Any]]:
        """A page of the students whose diary the caller may open (their own, their children, their class)."""
        path = f"/schools/{school}/diary/students"
        return cast(types.Page[dict[str, Any]], self._page(path, limit, offset, sort))

    def diary_week(self, school: str, student_id: int, day: dt.date | None = None) -> types.DiaryWeek:
        """The week of ``day`` (today by default) of a student's diary (``If-None-Match`` as the grid)."""
        path = f"/schools/{school}/diary/{student_id}/week"
        return cast(types.DiaryWeek, self._get_tagged(path, {"date": day}))

    def webhooks(
        self, school: str, *, limit: int | None = None, offset: int | None = None, sort: str | None = None
    ) -> types.Page[types.Webhook]:
        """A page of the school's webhooks with their waiting and failed deliveries (administrators)."""
        return cast(types.Page[types.Webhook], self._page(f"/schools/{school}/webhooks", limit, offset, sort))

    def webhook_deliveries(
        self,
        school: str,
        webhook_id: int,
        *,
        status: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
        sort: str | None = None,
    ) -> types.Page[types.Delivery]:
        """A page of a webhook's delivery log, newest first unless ``sort`` says otherwise; ``status``:
        ``pending``, ``sending``, ``sent`` or ``failed``."""
        path = f"/schools/{school}/webhooks/{webhook_id}/deliveries"
        return cast(types.Page[types.Delivery], self._page(path, limit, offset, sort, status=status))
