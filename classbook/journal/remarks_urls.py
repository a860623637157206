"""Control of journal keeping under ``/s/<school>/control/`` (R6.10)."""

from django.urls import path

from classbook.journal import remarks_views as views

app_name = "control"

urlpatterns = [
    path("remarks/", views.remarks_log, name="remarks"),
    path("remarks/add/", views.add_remark, name="add_remark"),
    path("remarks/mine/", views.my_remarks, name="my_remarks"),
    path("remarks/<int:remark_id>/fix/", views.fix_remark, name="fix_remark"),
    path("changes/", views.changes_log, name="changes"),
    path("accumulation/", views.accumulation_log, name="accumulation"),
]
