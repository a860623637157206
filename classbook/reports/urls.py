from django.urls import path

from classbook.reports import attendance_views, curriculum_views, filling_views, run_views, usage_views, views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("progress/", views.progress, name="progress"),
    path("progress.<str:fmt>", views.progress_export, name="progress_export"),
    path("summary/", views.summary, name="summary"),
    path("summary.<str:fmt>", views.summary_export, name="summary_export"),
    path("settings/", views.report_settings, name="settings"),
    # Attendance (R6.2): classbook/reports/attendance_views.py
    path("attendance/", attendance_views.report, name="attendance"),
    path("attendance.<str:fmt>", attendance_views.report_export, name="attendance_export"),
    path("attendance/sheet/", attendance_views.sheet, name="attendance_sheet"),
    path("attendance/sheet.<str:fmt>", attendance_views.sheet_export, name="attendance_sheet_export"),
    path("attendance/consecutive/", attendance_views.consecutive, name="consecutive"),
    path("attendance/consecutive.<str:fmt>", attendance_views.consecutive_export, name="consecutive_export"),
    path("attendance/registers/", attendance_views.registers, name="registers"),
    path("attendance/registers.<str:fmt>", attendance_views.registers_export, name="registers_export"),
    # Long reports built in the background (issue 11): classbook/reports/run_views.py
    path("runs/<int:pk>/", run_views.run, name="run"),
    path("runs/<int:pk>/file", run_views.run_file, name="run_file"),
]

# Journal filling and control (R6.3, R6.10, R6.11): classbook/reports/filling_views.py
urlpatterns += [
    path("filling/", filling_views.report, name="filling"),
    path("filling.<str:fmt>", filling_views.report_export, name="filling_export"),
    path("quality/", filling_views.quality, name="quality"),
    path("quality.<str:fmt>", filling_views.quality_export, name="quality_export"),
    path("quality/formula/", filling_views.quality_formula, name="quality_formula"),
    path("activity/", filling_views.activity, name="activity"),
    path("activity.<str:fmt>", filling_views.activity_export, name="activity_export"),
]

# Curriculum statistics, the yearly summary table, a college group's results (R6.4, R6.2):
# classbook/reports/curriculum_views.py
urlpatterns += [
    path("curriculum/", curriculum_views.report, name="curriculum"),
    path("curriculum.<str:fmt>", curriculum_views.report_export, name="curriculum_export"),
    path("curriculum/year-table/", curriculum_views.year_table, name="year_table"),
    path("curriculum/year-table.<str:fmt>", curriculum_views.year_table_export, name="year_table_export"),
    path("groups/results/", curriculum_views.group_results, name="group_results"),
    path("groups/results.<str:fmt>", curriculum_views.group_results_export, name="group_results_export"),
]


urlpatterns += [
    path("usage/", usage_views.report, name="usage"),
    path("usage.<str:fmt>", usage_views.report_export, name="usage_export"),
]

# The forecast of period grades (R6.5): classbook/reports/forecast_views.py
from classbook.reports import forecast_views  # noqa: E402

urlpatterns += [
    path("forecast/", forecast_views.index, name="forecast"),
    path("forecast/journal/<int:assignment>/", forecast_views.journal, name="forecast_journal"),
    path("forecast/class/<int:school_class>/", forecast_views.school_class, name="forecast_class"),
    path("forecast/at-risk/", forecast_views.risk, name="forecast_risk"),
    path("forecast/parents/", forecast_views.switch_parents, name="forecast_parents"),
    path("forecast/student/<int:student>/", forecast_views.child, name="forecast_child"),
    path("forecast/student/<int:student>/link/", forecast_views.child_link, name="forecast_child_link"),
]
