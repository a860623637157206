"""Migration diary 0002 (issue 10): the diary's weighting switch merged into the journal rules' one."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("diary", "0001_initial")]
AFTER = [("diary", "0002_one_weighting_rule")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor._create_project_state(with_applied_migrations=True).apps


@pytest.mark.django_db(transaction=True)
def test_the_journals_value_is_kept_and_a_diary_only_school_keeps_its_choice():
    apps = _migrate(BEFORE)
    try:
        School = apps.get_model("schools", "School")
        DiaryPolicy = apps.get_model("diary", "DiaryPolicy")
        JournalPolicy = apps.get_model("journal", "JournalPolicy")
        schools = [School.objects.create(slug=f"s{i}", name=f"School {i}") for i in range(4)]
        # 0: both switches agree; 1: they disagree (the journal's wins); 2: diary settings only; 3: journal only.
        JournalPolicy.objects.create(school=schools[0], weighted_averages=False)
        DiaryPolicy.objects.create(school=schools[0], weighted_average=False)
        JournalPolicy.objects.create(school=schools[1], weighted_averages=True)
        DiaryPolicy.objects.create(school=schools[1], weighted_average=False)
        DiaryPolicy.objects.create(school=schools[2], weighted_average=False)
        JournalPolicy.objects.create(school=schools[3], weighted_averages=False)
        apps = _migrate(AFTER)
        JournalPolicy = apps.get_model("journal", "JournalPolicy")
        weighted = dict(JournalPolicy.objects.values_list("school__slug", "weighted_averages"))
        assert weighted == {"s0": False, "s1": True, "s2": False, "s3": False}
        assert "weighted_average" not in {f.name for f in apps.get_model("diary", "DiaryPolicy")._meta.fields}
        # Back: every diary settings row takes the journal's value.
        apps = _migrate(BEFORE)
        diary = dict(apps.get_model("diary", "DiaryPolicy").objects.values_list("school__slug", "weighted_average"))
        assert diary == {"s0": False, "s1": True, "s2": False}
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
