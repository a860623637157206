"""The webhooks' named rule (``classbook/access/webhooks.py``) as a role × relationship table, and its
scope: another school's subscriptions are never in it.

Columns: see ``COLUMNS`` in ``tests/access/conftest.py`` (Y allowed, N refused, - no context: 404).
"""

from __future__ import annotations

import pytest

from classbook.access import webhooks
from classbook.webhooks.models import Delivery, Subscription
from tests.access.conftest import HEADER, table_cases

TABLE = {
    # cells: adm dir dep sec tea oth ct sub stu par opa end vie for ano
    # Only the school's administrators: not the director (no MANAGE of integrations), not the read-only viewer.
    "may_manage_webhooks": (webhooks.may_manage_webhooks, None, "Y N N N N N N N N N N N N - -"),
}


@pytest.mark.parametrize(("rule", "args", "expected"), table_cases(TABLE))
def test_webhooks_rule_table(cast, row_of, rule, args, expected):
    assert row_of(rule, *(args(cast) if args else ())) == expected, HEADER


def _subscription(school, user) -> Subscription:
    return Subscription.objects.create(
        school=school, url="https://93.184.215.14/h", events=["ping"], secret="s", created_by=user
    )


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("admin", {"ours"}),
        ("director", set()),
        ("teacher", set()),
        ("parent", set()),
        ("student", set()),
        ("viewer", set()),
    ],
)
def test_webhook_subscriptions_scope(world, ctx_of, persona, visible):
    ours = _subscription(world.school, world.admin)
    theirs = _subscription(world.other_school, world.foreign_admin)
    Delivery.objects.create(school=world.other_school, subscription=theirs, event="ping", payload={})
    names = {ours.pk: "ours", theirs.pk: "theirs"}
    ctx = ctx_of(persona)
    assert {names[s.pk] for s in webhooks.webhook_subscriptions(ctx)} == visible
    # Another school's subscription gives no deliveries even to our administrator.
    assert not webhooks.webhook_deliveries(ctx, theirs).exists()
