"""``manage.py worker``: django-tasks-db's ``db_worker`` that recovers (issue #9, ``notifications/worker.py``).

Before it starts, it makes the tasks a dead worker left running ready again; a task that failed because the
database connection was lost is made ready again at once; if the database goes away under the worker
(PostgreSQL restarting), it waits, reconnects, recovers and carries on instead of exiting. Options are
``db_worker``'s; the worker id defaults to ``host:pid:random`` so a restarted worker can tell its dead
predecessor's tasks.
"""

from __future__ import annotations

import logging
import time
from argparse import ArgumentParser
from typing import Any

from django.db import close_old_connections, connections
from django.db.utils import InterfaceError, OperationalError
from django_tasks_db.compat import TaskResultStatus, task_finished  # the signal the worker sends
from django_tasks_db.management.commands.db_worker import Command as DBWorkerCommand

from classbook.journal import outbox
from classbook.notifications import tasks, worker

logger = logging.getLogger("classbook.worker")


def _retry_if_the_database_was_lost(sender: Any, task_result: Any, **kwargs: Any) -> None:
    if task_result.status == TaskResultStatus.FAILED:
        worker.retry_failed(task_result.id)


class Command(DBWorkerCommand):
    help = "Run the background task worker (db_worker that recovers abandoned tasks and database outages)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(worker_id=worker.new_worker_id())

    def handle(self, *args: Any, **options: Any) -> None:
        task_finished.connect(_retry_if_the_database_was_lost, dispatch_uid="classbook.worker.retry")
        pause = 0.5
        while True:
            started = time.monotonic()
            try:
                counts = worker.reclaim(own_id=options["worker_id"])
                if any(counts.values()):
                    self.stdout.write(
                        f"recovered: {counts['reclaimed']} abandoned, {counts['retried']} failed on the database, "
                        f"{counts['given_up']} given up"
                    )
                # Journal changes whose drain was never enqueued (their commit's answer was lost): drain them.
                if outbox.pending():
                    tasks.request_journal_drain()
                super().handle(*args, **options)
                return
            except (OperationalError, InterfaceError) as error:
                logger.warning("Database unavailable (%s): the worker retries in %.1f s", error, pause)
                connections.close_all()
                if time.monotonic() - started > 60:
                    pause = 0.5  # it ran a while: a new outage, not the same one
                time.sleep(pause)
                pause = min(pause * 2, 10.0)
                close_old_connections()
