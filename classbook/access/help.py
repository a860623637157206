"""Who reads which help article (R9.4).

An article names the audiences it is for; a reader's audiences come from their roles in the school of the
page. Help holds no personal data, so the rule only keeps the lists short and relevant: anonymous visitors
read how to activate an account and log in, every signed-in person also the account articles, and in a
school each role its own articles (the class teacher, a relationship, has its own). Staff may ask for every
article ("all"): a deputy explains the parents' pages to a parent on the phone.
"""

from __future__ import annotations

from classbook.access.context import SchoolContext
from classbook.people.models import Role

PUBLIC = "public"  # anonymous visitors too: activation and login
ACCOUNT = "account"  # every signed-in person
CLASS_TEACHER = "class_teacher"  # a relationship (SchoolClass.class_teacher), not a role
AUDIENCES = (PUBLIC, ACCOUNT, *Role.values, CLASS_TEACHER)


def help_audiences(ctx: SchoolContext | None, signed_in: bool) -> frozenset[str]:
    """The audiences whose articles the reader sees listed (``ctx`` is None outside a school)."""
    audiences = {PUBLIC}
    if signed_in:
        audiences.add(ACCOUNT)
    if ctx is not None:
        audiences |= set(ctx.roles)
        if ctx.is_class_teacher:
            audiences.add(CLASS_TEACHER)
    return frozenset(audiences)


def may_read_all_help(ctx: SchoolContext | None) -> bool:
    """Staff of the school may list and open every article; students, parents and viewers only their own."""
    return ctx is not None and ctx.is_staff_member


def may_read_article(ctx: SchoolContext | None, signed_in: bool, article_audiences: frozenset[str]) -> bool:
    return may_read_all_help(ctx) or bool(article_audiences & help_audiences(ctx, signed_in))
