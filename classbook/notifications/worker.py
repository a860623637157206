"""The task worker's recovery: tasks a dead worker left running, and tasks that failed because the database
went away, are run again (issue #9). ``manage.py worker`` (``db_worker`` with this) runs it when it starts and
after losing the database; ``manage.py send_notifications`` (every two minutes) runs it too.

django-tasks-db marks a task *running* when a worker claims it and *successful* or *failed* when it ends; a
worker killed in between (SIGKILL, out of memory, the machine restarting) leaves it *running* forever, and a
task that failed on a lost database connection stays *failed*: both would be lost. Here:

- a running task whose worker is known dead — the worker id is ``host:pid:random`` and that process no
  longer exists on this host, or it is this very worker starting again — or that has been running longer
  than ``STALE_TASK`` (a worker on another machine), is made *ready* again;
- a task failed with a database connection error is made ready again after a pause (``_pause``: 5 s,
  doubling), at once by the worker that ran it (``retry_failed``), else by the next ``reclaim``;
- a task started ``MAX_RUNS`` times is left failed (a task that kills its worker every time must stop).

Running a task again is safe: every task is idempotent (``tasks.py``). A reclaimed ``send_deliveries``
releases its deliveries still marked *sending* (the dead worker's claim): each is sent again with the same
Message-ID, the only case where a message can arrive twice (the server accepted it, the worker died before
recording it), and the receiving side can tell it is the same message.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.models import DBTaskResult

from classbook.notifications.models import Delivery, Status

logger = logging.getLogger("classbook.worker")

STALE_TASK = dt.timedelta(minutes=60)
MAX_RUNS = 5
SEND_TASK = "classbook.notifications.tasks.send_deliveries"
# Failures that say nothing about the task: the database connection was lost under it.
TRANSIENT = [
    "django.db.utils.OperationalError",
    "django.db.utils.InterfaceError",
    "psycopg.OperationalError",
    "psycopg.InterfaceError",
    "psycopg.errors.AdminShutdown",
]


def new_worker_id() -> str:
    """``host:pid:random`` (at most 64 characters): lets a worker on the same host see that another one died."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{get_random_string(12)}"


def _dead(worker_id: str, own_id: str) -> bool:
    """True when the worker is certainly gone: this worker itself (it runs nothing while it recovers), or a
    process of this host that no longer exists. Other hosts' workers are judged by ``STALE_TASK`` alone."""
    if own_id and worker_id == own_id:
        return True
    host, _, rest = worker_id.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname()[:40] or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True  # a process before this one had this id's pid, and it is not running any task now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _pause(runs: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(600, 5 * 2 ** max(0, runs - 1)))


def _delivery_ids(args_kwargs: dict[str, Any]) -> list[int]:
    args, kwargs = args_kwargs.get("args") or [], args_kwargs.get("kwargs") or {}
    ids = args[0] if args else kwargs.get("delivery_ids", [])
    return [int(i) for i in ids]


def reclaim(*, own_id: str = "") -> dict[str, int]:
    """Make abandoned and transiently failed tasks ready again (see the module). Returns counts."""
    now = timezone.now()
    counts = {"reclaimed": 0, "retried": 0, "given_up": 0}
    with transaction.atomic():
        running = DBTaskResult.objects.running().select_for_update(skip_locked=True)
        failed = (
            DBTaskResult.objects.failed().filter(exception_class_path__in=TRANSIENT).select_for_update(skip_locked=True)
        )
        for task in running.only("id", "worker_ids", "started_at", "task_path", "args_kwargs"):
            last = task.worker_ids[-1] if task.worker_ids else ""
            stale = task.started_at is not None and task.started_at < now - STALE_TASK
            if not (stale or _dead(last, own_id)):
                continue
            logger.warning("Task %s (%s) left running by worker %s: running it again", task.pk, task.task_path, last)
            counts["reclaimed" if _again(task, now, dt.timedelta(0)) else "given_up"] += 1
            if task.task_path == SEND_TASK:
                Delivery.objects.filter(pk__in=_delivery_ids(task.args_kwargs), status=Status.SENDING).update(
                    status=Status.PENDING, next_attempt_at=now
                )
        for task in failed.only("id", "worker_ids", "task_path", "exception_class_path"):
            logger.warning("Task %s (%s) failed with %s: running it again", task.pk, task.task_path,
                           task.exception_class_path)  # fmt: skip
            counts["retried" if _again(task, now, _pause(len(task.worker_ids))) else "given_up"] += 1
    return counts


def retry_failed(task_id: str) -> bool:
    """Right after a task failed: if the database connection was lost under it, make it ready again after a
    pause (``manage.py worker`` calls this when a task finishes). True when it will run again."""
    with transaction.atomic():
        task = (
            DBTaskResult.objects.failed()
            .filter(pk=task_id, exception_class_path__in=TRANSIENT)
            .select_for_update()
            .only("id", "worker_ids", "task_path", "exception_class_path")
            .first()
        )
        if task is None:
            return False
        logger.warning("Task %s (%s) failed with %s: running it again", task.pk, task.task_path,
                       task.exception_class_path)  # fmt: skip
        return _again(task, timezone.now(), _pause(len(task.worker_ids)))


def _again(task: DBTaskResult, now: dt.datetime, pause: dt.timedelta) -> bool:
    if len(task.worker_ids) >= MAX_RUNS:
        DBTaskResult.objects.filter(pk=task.pk).update(
            status="FAILED", finished_at=now, exception_class_path="classbook.notifications.worker.GaveUp",
            traceback=f"started {len(task.worker_ids)} times without finishing",
        )  # fmt: skip
        return False
    DBTaskResult.objects.filter(pk=task.pk).update(
        status="READY", started_at=None, finished_at=None, exception_class_path="", traceback="",
        run_after=now + pause,
    )  # fmt: skip
    return True
