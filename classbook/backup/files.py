"""The backup app's own post-restore check: every file a row points to is in the restored media folder."""

from __future__ import annotations

from pathlib import Path

from django.apps import apps
from django.db import models
from django.utils.translation import ngettext

from classbook.backup.checks import RestoreContext

SHOWN = 20


def referenced_files_present(context: RestoreContext) -> list[str]:
    """Read every FileField of every model generically (no app's services): a missing file is a problem."""
    missing: list[str] = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.FileField):
                continue
            names = model._default_manager.using(context.using).exclude(**{field.attname: ""})
            for name in names.values_list(field.attname, flat=True).iterator():
                if name and not (Path(context.media_root) / name).is_file():
                    missing.append(f"{model._meta.label}.{field.name}: {name}")
    problems = missing[:SHOWN]
    if len(missing) > SHOWN:
        more = len(missing) - SHOWN
        problems.append(
            ngettext("… and %(count)s more missing file", "… and %(count)s more missing files", more) % {"count": more}
        )
    return problems
