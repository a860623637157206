"""One weighting switch per school (issue 10): the diary's ``weighted_average`` is merged into the journal
rules' ``weighted_averages`` and removed.

The two switches let the diary and the grid disagree on a student's average. What is kept, per school:

- a school with journal rules (a ``JournalPolicy`` row: every school set up through
  ``journal.defaults.create_journal_defaults``) keeps the journal's value. **Where the two disagreed, the
  journal's value wins**: the diary and the letters of that school now show the average as the grid has
  always shown it (the grid, its API and the period-grade rules are the ones teachers grade by);
- a school with diary settings but no journal rules (its journal ran on the defaults, weighted) gets journal
  rules made with the diary's value: the only choice that school ever made about weighting.

Reversing puts the journal's value into every diary settings row (both switches agree after a round trip).
"""

from django.db import migrations


def merge_into_the_journal_rules(apps, schema_editor):
    DiaryPolicy = apps.get_model("diary", "DiaryPolicy")
    JournalPolicy = apps.get_model("journal", "JournalPolicy")
    with_rules = set(JournalPolicy.objects.values_list("school_id", flat=True))
    JournalPolicy.objects.bulk_create(
        [
            JournalPolicy(school_id=school_id, weighted_averages=weighted)
            for school_id, weighted in DiaryPolicy.objects.values_list("school_id", "weighted_average")
            if school_id not in with_rules
        ]
    )


def copy_back(apps, schema_editor):
    DiaryPolicy = apps.get_model("diary", "DiaryPolicy")
    JournalPolicy = apps.get_model("journal", "JournalPolicy")
    weighted = dict(JournalPolicy.objects.values_list("school_id", "weighted_averages"))
    for policy in DiaryPolicy.objects.all():
        policy.weighted_average = weighted.get(policy.school_id, True)
        policy.save(update_fields=["weighted_average"])


class Migration(migrations.Migration):
    dependencies = [
        ("diary", "0001_initial"),
        ("journal", "0008_journalchange_announced_at"),
    ]

    operations = [
        migrations.RunPython(merge_into_the_journal_rules, copy_back),
        migrations.RemoveField(model_name="diarypolicy", name="weighted_average"),
    ]
