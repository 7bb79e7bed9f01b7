from django.urls import path

from . import views, views_imports, views_transitions, views_verify

app_name = "screening"
urlpatterns = [
    path("", views.index, name="index"),
    path("campaigns/new/", views.campaign_open, name="campaign_open"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/close/", views.campaign_close, name="campaign_close"),
    path("campaigns/<int:pk>/children/<int:child_pk>/", views.screen_child, name="screen_child"),
    path(
        "campaigns/<int:pk>/children/<int:child_pk>/not-left-behind/",
        views.confirm_none,
        name="confirm_none",
    ),
    path("verification/", views_verify.round_list, name="rounds"),
    path("verification/<int:pk>/", views_verify.round_detail, name="round"),
    path(
        "verification/<int:pk>/children/<int:child_pk>/",
        views_verify.verify_child,
        name="verify_child",
    ),
    path(
        "verification/<int:pk>/grades/<int:grade>/signoff/", views_verify.sign_off, name="sign_off"
    ),
    path("cards/stale/", views_verify.stale_list, name="stale"),
    path("cards/<int:child_pk>/", views_verify.card_checks, name="card_checks"),
    path("imports/", views_imports.import_list, name="imports"),
    path("imports/template.xlsx", views_imports.import_template, name="import_template"),
    path("imports/<int:pk>/", views_imports.import_detail, name="import_detail"),
    path("imports/<int:pk>/confirm/", views_imports.import_confirm, name="import_confirm"),
    path("imports/<int:pk>/retry/", views_imports.import_retry, name="import_retry"),
    path("imports/<int:pk>/rejected.xlsx", views_imports.import_rejected, name="import_rejected"),
    path("transfers/", views_transitions.transfer_list, name="transfers"),
    path("transfers/<int:child_pk>/", views_transitions.transfer, name="transfer"),
    path("rollover/", views_transitions.rollover, name="rollover"),
    path("rollover/<int:pk>/", views_transitions.rollover_detail, name="rollover_detail"),
    path("counts/", views_transitions.counts, name="counts"),
]
