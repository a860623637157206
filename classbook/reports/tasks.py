"""Background tasks of the reports (django-tasks, as ``notifications/tasks.py``): building a long report.

The argument is the run's id (plain JSON). The task is safe to run twice (``runs.build`` leaves a finished
run alone), which lets ``manage.py worker`` run again a task whose worker died.
"""

from __future__ import annotations

from django_tasks import task

from classbook.reports import runs


@task()
def build_run(run_id: int) -> str:
    """Build the report of ``ReportRun`` ``run_id`` and store its file (or its error)."""
    return runs.build(run_id)
