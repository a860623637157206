"""PostgreSQL restarted under write load: every save is either committed and acknowledged, or answered with
a clear 503 that the grid retries; no acknowledged save is lost and nothing answers 500 (issue #9,
``classbook/core/db_outage.py``).

Real processes: a private PostgreSQL cluster (initdb + pg_ctl in a temporary folder, on a free port), the
schema made from the models, a gunicorn serving Classbook on it, and HTTP clients saving marks through the
grid's endpoint while the test stops, starts and restarts PostgreSQL.
"""

from __future__ import annotations

import glob
import http.cookiejar
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import PASSWORD

PG_BIN = next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)), "")
pytestmark = [
    pytest.mark.outage,
    pytest.mark.skipif(not PG_BIN, reason="PostgreSQL server binaries (/usr/lib/postgresql/*/bin) are not installed"),
]

# Run in the server's environment: the schema straight from the models (as Django's test runner does with
# MIGRATE=False: seconds instead of a minute of migrations), then a teacher's journal with empty cells.
SETUP = """
import datetime as dt, json
from django.conf import settings
from django.urls import reverse
from django.core.management import call_command

class NoMigrations:
    def __contains__(self, item): return True
    def __getitem__(self, item): return None

settings.MIGRATION_MODULES = NoMigrations()
call_command("migrate", run_syncdb=True, verbosity=0)
from classbook.journal.models import Lesson
from classbook.people.models import Role, Student
from tests import factories as f
school = f.SchoolFactory(slug="lyceum-1")
school_class = f.SchoolClassFactory(year=f.YearFactory(school=school), name="5-A")
teacher = f.make_member(school, Role.TEACHER, username="teacher")
assignment = f.make_assignment(teacher, school_class)
f.make_grid(assignment, students=6, lessons=4, fill=0, start=dt.date(2026, 11, 16))
cells = [[l, s] for l in Lesson.objects.filter(assignment=assignment).values_list("pk", flat=True)
         for s in Student.objects.filter(enrolments__school_class=school_class).values_list("pk", flat=True)]
print("SETUP " + json.dumps({"assignment": assignment.pk, "cells": cells}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A private PostgreSQL cluster, run as the ``postgres`` user when the tests run as root (initdb refuses)."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.data = folder / "data"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def run(self, *command: str) -> None:
        subprocess.run([*self.as_user, *command], check=True, capture_output=True, timeout=60)  # noqa: S603

    def init(self) -> None:
        if self.as_user:
            shutil.chown(self.folder, "postgres")
        self.run(f"{PG_BIN}/initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.start()
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE classbook")

    def ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run(f"{PG_BIN}/pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w",
                 action, *extra)  # fmt: skip

    def start(self) -> None:
        self.ctl("start")

    def stop(self) -> None:
        self.ctl("stop", "-m", "fast")

    def url(self, name: str = "classbook") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"


class Browser:
    """A logged-in teacher over real HTTP (standard library only): cookies, CSRF, JSON answers."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(
        self,
        path: str,
        data: dict[str, str] | None = None,
        accept: str = "application/json",
        headers: dict | None = None,
    ):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        csrf = next((c.value for c in self.jar if c.name == "csrftoken"), "")
        headers = {
            "Accept": accept,
            "Accept-Language": "en",
            "X-CSRFToken": csrf,
            "Referer": self.base,
            **(headers or {}),
        }
        req = urllib.request.Request(self.base + path, data=body, headers=headers)  # noqa: S310 - http://127.0.0.1
        try:
            with self.opener.open(req, timeout=20) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def login(self) -> None:
        login = reverse("people:login")
        _status, _headers, page = self.request(login, accept="text/html")
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert found, (_status, page[:2000])
        token = found.group(1)
        status, _headers, _page = self.request(
            login, {"csrfmiddlewaretoken": token, "username": "teacher", "password": PASSWORD}, accept="text/html"
        )
        assert status == 200 and any(c.name == "sessionid" for c in self.jar)


@dataclass
class Saves:
    acknowledged: list[tuple[int, int]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    unavailable: int = 0
    in_doubt_resolved: int = 0


def save_cells(browser: Browser, url: str, cells: list[list[int]], saves: Saves, lock: threading.Lock) -> None:
    """Save "10" in each cell as the grid's script does: on 503 (or no answer) wait and send the same save
    again; a 409 after a retry whose cell already holds the value means the lost answer's save committed."""
    for lesson, student in cells:
        data = {"kind": "lesson", "lesson": str(lesson), "student": str(student), "value": "10", "version": "0.0"}
        retried = False
        for _attempt in range(100):
            try:
                status, headers, body = browser.request(url, data)
            except OSError:  # the server closed the connection: as the browser's network error
                status, headers, body = 0, {}, ""
            with lock:
                saves.statuses.append(status)
            if status in (0, 502, 503):
                if status == 503:
                    assert json.loads(body)["error"]["code"] == "unavailable" and headers["Retry-After"]
                    with lock:
                        saves.unavailable += 1
                retried = True
                time.sleep(0.2)
                continue
            answer = json.loads(body)
            in_doubt = status == 409 and retried and answer["error"]["current"]["value"] == "10"
            assert status == 200 or in_doubt, (status, body)
            with lock:
                saves.acknowledged.append((lesson, student))
                saves.in_doubt_resolved += in_doubt
            break


def stored_tens(cluster: Cluster) -> set[tuple[int, int]]:
    with psycopg.connect(cluster.url()) as conn:
        rows = conn.execute(
            "SELECT m.lesson_id, m.student_id FROM journal_mark m JOIN schools_scalevalue v ON v.id = m.value_id "
            "WHERE v.code = '10'"
        ).fetchall()
    return {(int(lesson), int(student)) for lesson, student in rows}


@pytest.fixture
def cluster():
    """The cluster's folder is directly under /tmp: the ``postgres`` user cannot enter pytest's own."""
    with tempfile.TemporaryDirectory(prefix="classbook-pg-") as folder:
        server = Cluster(Path(folder))
        server.init()
        try:
            yield server
        finally:
            if (server.data / "postmaster.pid").exists():
                server.stop()


def task_states(cluster: Cluster) -> list[str]:
    with psycopg.connect(cluster.url()) as conn:
        return [row[0] for row in conn.execute("SELECT status FROM django_tasks_database_dbtaskresult").fetchall()]


def outbox_state(cluster: Cluster) -> tuple[int, int, int]:
    """(mark changes announced, mark changes still in the outbox, the student's mark notifications)."""
    with psycopg.connect(cluster.url()) as conn:
        announced, pending = conn.execute(
            "SELECT COUNT(*) FILTER (WHERE announced_at IS NOT NULL), COUNT(*) FILTER (WHERE announced_at IS NULL) "
            "FROM journal_journalchange WHERE kind = 'mark'"
        ).fetchone()
        told = conn.execute("SELECT COUNT(*) FROM notifications_notification WHERE kind = 'mark'").fetchone()[0]
    return int(announced), int(pending), int(told)


def test_saves_survive_a_postgresql_restart_under_load(cluster, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": cluster.url(),
        "DEBUG": "0",
        "SECRET_KEY": "outages-test-key-not-secret",
        "ALLOWED_HOSTS": "127.0.0.1",
        "CLASSBOOK_VAR_DIR": str(tmp_path / "var"),
        "DB_CONN_MAX_AGE": "60",  # persistent connections: the ones a restart breaks under the server
    }
    env.pop("REDIS_URL", None)
    env.pop("TEST_DB_NAME", None)
    setup = subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "manage.py", "shell", "-c", SETUP], cwd=settings.BASE_DIR, env=env, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert setup.returncode == 0, setup.stderr
    world = json.loads(setup.stdout.split("SETUP ", 1)[1])
    port = free_port()
    with open(tmp_path / "gunicorn.log", "wb") as log:
        server = subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "gunicorn", "classbook.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "2",
             "--preload", "--timeout", "30", "--no-control-socket"],
            cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    # The task worker on the same database: it drains the journal's outbox (each save's notifications).
    with open(tmp_path / "worker.log", "wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--interval", "0.2", "--no-startup-delay", "--no-reload"],
            cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120  # gunicorn --preload imports the whole site: long on a busy machine
        while True:
            try:
                urllib.request.urlopen(base + reverse("people:login"), timeout=2).close()  # noqa: S310 - our own server
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.05)
        save_url = reverse("journal:save_cell", args=["lyceum-1", world["assignment"]])
        cells = world["cells"]
        teacher = Browser(base)
        teacher.login()

        # PostgreSQL stopped: a save is refused with the translated 503 and Retry-After; a page too.
        cluster.stop()
        data = {"kind": "lesson", "lesson": str(cells[0][0]), "student": str(cells[0][1]), "value": "10",
                "version": "0.0"}  # fmt: skip
        status, headers, body = teacher.request(save_url, data)
        assert status == 503 and headers["Retry-After"] == "2", body
        assert json.loads(body)["error"] == {
            "code": "unavailable",
            "message": "The journal could not reach its database. Nothing was saved; try again in a moment.",
        }
        status, headers, page = teacher.request(
            reverse("journal:grid", args=["lyceum-1", world["assignment"]]), accept="text/html"
        )
        assert status == 503 and headers["Retry-After"] == "2" and "Try again in a moment" in page
        api = Browser(base)  # the API with a token: the same structured 503
        status, headers, body = api.request("/api/v1/me", headers={"Authorization": "Bearer cb_any-token"})
        assert status == 503 and headers["Retry-After"] == "2"
        assert json.loads(body)["error"]["code"] == "unavailable"
        cluster.start()

        # Under load: two clients save while PostgreSQL restarts (pg_ctl restart -m fast).
        saves, lock = Saves(), threading.Lock()
        halves = [cells[0::2], cells[1::2]]
        clients = [teacher, teacher]  # one session, two connections at a time (a teacher with two tabs)
        threads = [
            threading.Thread(target=save_cells, args=(client, save_url, half, saves, lock))
            for client, half in zip(clients, halves, strict=True)
        ]
        for thread in threads:
            thread.start()
        while len(saves.acknowledged) < 6 and any(t.is_alive() for t in threads):
            time.sleep(0.01)
        cluster.ctl("restart", "-m", "fast")
        for thread in threads:
            thread.join(60)
        assert not any(t.is_alive() for t in threads)
        assert 500 not in saves.statuses
        assert sorted(saves.acknowledged) == sorted(map(tuple, cells))  # every save acknowledged in the end
        assert stored_tens(cluster) == {tuple(c) for c in cells}  # and every acknowledged save is stored
        # The worker lived through the outages (it waits and reconnects) and ran every task.
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()
        states = task_states(cluster)
        for _ in range(900):
            if not ({"READY", "RUNNING"} & set(states)):
                break
            time.sleep(0.1)
            states = task_states(cluster)
        # Every save has its notifications (issue 10: the transactional outbox, ``journal/outbox.py``): the
        # change's audit row is its outbox entry, written in the save's own transaction, so a commit whose
        # answer was lost (an in-doubt commit, found stored by the client's retry) keeps it too; the drains the
        # later saves enqueue take it. Strict: every save's change announced, one notification per save.
        assert set(states) == {"SUCCESSFUL"}, states
        for _ in range(900):
            announced, pending, told = outbox_state(cluster)
            if not pending:
                break
            time.sleep(0.1)
        assert (announced, pending) == (len(cells), 0), (announced, pending, saves.in_doubt_resolved)
        assert told == len(cells), (told, saves.in_doubt_resolved)
        print(
            f"{len(saves.statuses)} requests for {len(cells)} saves; {saves.unavailable} answered 503, "
            f"{saves.statuses.count(0)} connection errors, {saves.in_doubt_resolved} in-doubt commits resolved"
        )
    finally:
        for process in (server, worker):
            process.terminate()
            process.wait(10)
