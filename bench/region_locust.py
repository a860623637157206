"""The locust users of ``bench/region_load.py``: a school day's mixed load (issue 15). Not run on its own.

``bench/region_load.py`` builds the data, starts the servers, logs the personas in and starts locust headless
with ``REGION_TARGETS`` naming a JSON file of personas (each with its session cookie). Every request is named
by its kind, so locust's statistics are per kind:

- teachers save marks (``save mark``) and attendance (``save attendance``) through the grid's save endpoint,
  and open their grid now and then (``grid``);
- class teachers open their class's absences (``absences``);
- parents and students open the diary week (``diary``) and their messages (``messages``);
- deputies open the school's progress and attendance reports (``report progress``, ``report attendance``).

A save refused with 409 (the cell moved on) is a failure only if its retry with the version the answer gives
fails too; every other answer but 200 is a failure.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import threading
from typing import Any

from locust import HttpUser, between, task

with open(os.environ["REGION_TARGETS"], encoding="utf-8") as _f:
    TARGETS: dict[str, Any] = json.load(_f)
WEEK = TARGETS["week"]
_lock = threading.Lock()
_cycles = {kind: itertools.cycle(TARGETS[kind]) for kind in ("teachers", "class_teachers", "families", "deputies")}


_users = itertools.count()


def _next(kind: str) -> tuple[dict[str, Any], int]:
    """The next persona of ``kind`` (cycled: with more locust users than personas, several users are the same
    person in several tabs) and this locust user's number."""
    with _lock:
        return next(_cycles[kind]), next(_users)


class Persona(HttpUser):
    abstract = True
    kind = ""
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.p, number = _next(self.kind)
        self.client.headers["Cookie"] = self.p["cookie"]
        self.client.headers["X-CSRFToken"] = self.p["csrf"]
        self.client.headers["Referer"] = self.host + "/"
        # Seeded per locust user, not per persona: two users of one teacher persona pick different cells, as
        # two tabs of one person would, instead of saving the same cell at the same moment.
        self.rng = random.Random(f"{self.p['username']}-{number}")

    def get(self, path: str, name: str) -> None:
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}")


class Teacher(Persona):
    kind = "teachers"
    weight = 6

    def on_start(self) -> None:
        super().on_start()
        # (lesson, student) -> version token "mark.attendance" as the grid carries it
        self.versions: dict[tuple[int, int], str] = {}
        self.absent: set[tuple[int, int]] = set()
        self.value = 0

    def save(self, name: str, cell: list[int], value: str) -> bool:
        lesson, student, mark_version, attendance_version = cell
        key = (lesson, student)
        token = self.versions.get(key, f"{mark_version}.{attendance_version}")
        data = {"lesson": lesson, "student": student, "value": value, "version": token}
        url = self.p["save"]
        for attempt in (1, 2):
            with self.client.post(url, data=data, name=name, catch_response=True) as r:
                if r.status_code == 200:
                    self.versions[key] = str(r.json()["version"])  # the cell's token, as the grid keeps it
                    return True
                if r.status_code == 409 and attempt == 1:
                    current = r.json().get("error", {}).get("current") or {}
                    data["version"] = str(current.get("version", "0.0"))
                    r.success()  # the retry with the version the answer gave decides
                    continue
                r.failure(f"{r.status_code} {r.text[:120]}")
        return False

    @task(6)
    def save_mark(self) -> None:
        values = self.p["values"]
        self.value = (self.value + 1) % len(values)
        self.save("save mark", self.rng.choice(self.p["mark_cells"]), values[self.value])

    @task(3)
    def save_attendance(self) -> None:
        if not self.p["attendance_cells"]:
            return
        cell = self.rng.choice(self.p["attendance_cells"])
        key = (cell[0], cell[1])
        value = "" if key in self.absent else "н"
        if self.save("save attendance", cell, value):
            (self.absent.add if value else self.absent.discard)(key)

    @task(1)
    def grid(self) -> None:
        self.get(self.p["grid"], "grid")


class ClassTeacher(Persona):
    kind = "class_teachers"
    weight = 2

    @task
    def absences(self) -> None:
        self.get(self.p["absences"], "absences")


class Family(Persona):
    """A parent or a student: the diary week most of the time, the messages now and then."""

    kind = "families"
    weight = 12

    @task(4)
    def diary(self) -> None:
        self.get(self.rng.choice(self.p["diaries"]), "diary")

    @task(1)
    def messages(self) -> None:
        self.get(self.p["messages"], "messages")


class Deputy(Persona):
    kind = "deputies"
    weight = 1

    @task(2)
    def progress(self) -> None:
        self.get(self.p["progress"], "report progress")

    @task(1)
    def attendance(self) -> None:
        self.get(self.p["attendance"], "report attendance")
