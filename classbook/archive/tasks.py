"""Background tasks of the archives (django-tasks, as ``reports/tasks.py``): building an archive.

The argument is the build's id (plain JSON). Safe to run twice (``build.run`` leaves a finished build alone
and skips documents already archived), so ``manage.py worker`` may run again a task whose worker died.
"""

from __future__ import annotations

from django_tasks import task

from classbook.archive import build


@task()
def build_archive(build_id: int) -> str:
    """Archive every class of ``ArchiveBuild`` ``build_id`` (``archive/build.py``)."""
    return build.run(build_id)
