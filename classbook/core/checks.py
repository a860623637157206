"""System checks for what the code alone cannot guarantee (``manage.py check`` and every server start)."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, Tags, register


@register(Tags.security)
def check_xml_is_defused(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Uploaded workbooks are parsed by openpyxl; without defusedxml it would expand entities (issue 9)."""
    from classbook.core.tables import xml_is_defused

    if xml_is_defused():
        return []
    return [
        Error(
            "openpyxl does not parse XML through defusedxml, so uploaded workbooks could expand entities "
            "or read local files.",
            hint="Install the pinned defusedxml (pyproject.toml) and do not set OPENPYXL_DEFUSEDXML=False.",
            id="core.E010",
        )
    ]
