from django.urls import path

from classbook.planning import views

app_name = "planning"

urlpatterns = [
    path("", views.index, name="index"),
    path("status/", views.status, name="status"),
    path("completion/", views.completion, name="completion"),
    path("base/", views.base, name="base"),
    path("base/<int:plan_id>/", views.base_plan, name="base_plan"),
    path("base/<int:plan_id>/withdraw/", views.withdraw, name="withdraw"),
    path("template.<str:fmt>", views.template_file, name="template"),
    path("a/<int:assignment_id>/", views.plan_detail, name="plan"),
    path("a/<int:assignment_id>/import/", views.import_plan, name="import"),
    path("a/<int:assignment_id>/copy/", views.copy_plan, name="copy"),
    path("a/<int:assignment_id>/bind/", views.bind_plan, name="bind"),
    path("a/<int:assignment_id>/confirm/", views.confirm_topics, name="confirm"),
    path("a/<int:assignment_id>/submit/", views.submit_plan, name="submit"),
    path("a/<int:assignment_id>/publish/", views.publish_plan, name="publish"),
    path("a/<int:assignment_id>/approve/", views.approve_plan, name="approve"),
    path("a/<int:assignment_id>/return/", views.return_plan, name="return"),
    path("a/<int:assignment_id>/plan.<str:fmt>", views.export_plan, name="export"),
]
