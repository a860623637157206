"""Operations that change a school's calendar and structure. Views, the API and commands call these."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from classbook.core.audit import log_action
from classbook.schools.models import School
from classbook.schools.scales import create_standard_scales
from classbook.schools.signals import school_created


@transaction.atomic
def create_school(*, acting_user: Any, slug: str, name: str, country: str = "UA", **fields: Any) -> School:
    """Create a tenant with its standard marking scales."""
    school = School(slug=slug, name=name, country=country, **fields)
    school.full_clean()
    school.save()
    create_standard_scales(school)
    log_action("schools.school.created", actor=acting_user, school=school, obj=school, data={"slug": slug})
    school_created.send(sender=School, school=school, acting_user=acting_user)
    return school
