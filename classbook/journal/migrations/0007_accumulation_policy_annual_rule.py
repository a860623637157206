"""The accumulation rule (R2.6) becomes a school policy (off / warn / refuse) and the annual grade's check a
school rule (issue 10). Existing schools get the defaults: warn, and the mean of the period grades.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('journal', '0006_homework_files_verified_type'),
    ]

    operations = [
        migrations.AddField(
            model_name='journalpolicy',
            name='accumulation_policy',
            field=models.CharField(choices=[('off', 'Not checked'), ('warn', 'Warn, save the grade'), ('refuse', 'Refuse the grade (“н/а” and “exempt” are still accepted)')], default='warn', help_text='What happens when a period grade is given to a student with fewer marks than required.', max_length=8, verbose_name='too few marks for a period grade'),
        ),
        migrations.AddField(
            model_name='journalpolicy',
            name='annual_grade_rule',
            field=models.CharField(choices=[('mean', 'Mean of the period grades, rounded half up'), ('off', 'Not checked')], default='mean', help_text='The annual grade is compared with the mean of the semester (quarter) grades, a corrected grade replacing the original; a different grade is saved with a warning.', max_length=8, verbose_name='check of the annual grade'),
        ),
    ]
