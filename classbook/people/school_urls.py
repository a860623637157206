from django.urls import path

from classbook.people import manage_views, views

app_name = "school_people"

urlpatterns = [
    path("codes/", views.codes, name="codes"),
    path("codes/slips/", views.codes_slips, name="codes_slips"),
    path("codes/<int:user_id>/revoke/", views.codes_revoke, name="codes_revoke"),
]

# The school's account administration (issue 9).
urlpatterns += [
    path("accounts/", manage_views.accounts_list, name="accounts"),
    path("accounts/<int:user_id>/deactivate/", manage_views.deactivate, name="account_deactivate"),
    path("accounts/<int:user_id>/reactivate/", manage_views.reactivate, name="account_reactivate"),
    path("accounts/<int:user_id>/two-factor-reset/", manage_views.two_factor_reset, name="account_two_factor_reset"),
]
