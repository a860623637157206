"""Background tasks of the archives (django-tasks, as ``reports/tasks.py``): building an archive, one task per
class so that several workers share a year archive (``archive/build.py``).

The arguments are ids (plain JSON). Safe to run twice (``build.run`` leaves a finished build alone and queues
only the classes not made yet; ``build.run_class`` skips a class already made), so ``manage.py worker`` may run
again a task whose worker died.
"""

from __future__ import annotations

from django_tasks import task

from classbook.archive import build


@task()
def build_archive(build_id: int) -> str:
    """Start ``ArchiveBuild`` ``build_id``: one ``build_archive_class`` task per class (``archive/build.py``)."""
    return build.run(build_id)


@task()
def build_archive_class(build_id: int, class_id: int) -> str:
    """Make one class's documents of the build; the last class's task appends them all to the chain."""
    return build.run_class(build_id, class_id)
