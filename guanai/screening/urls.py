from django.urls import path

from . import import_views, transition_views, views

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
    path("verification/", views.round_list, name="rounds"),
    path("verification/<int:pk>/", views.round_detail, name="round"),
    path(
        "verification/<int:pk>/children/<int:child_pk>/",
        views.verify_child,
        name="verify_child",
    ),
    path("verification/<int:pk>/grades/<int:grade>/signoff/", views.sign_off, name="sign_off"),
    path("cards/stale/", views.stale_list, name="stale"),
    path("cards/<int:child_pk>/", views.card_checks, name="card_checks"),
    path("imports/", import_views.import_list, name="imports"),
    path("imports/template.xlsx", import_views.import_template, name="import_template"),
    path("imports/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("imports/<int:pk>/confirm/", import_views.import_confirm, name="import_confirm"),
    path("imports/<int:pk>/retry/", import_views.import_retry, name="import_retry"),
    path("imports/<int:pk>/rejected.xlsx", import_views.import_rejected, name="import_rejected"),
    path("transfers/", transition_views.transfer_list, name="transfers"),
    path("transfers/<int:child_pk>/", transition_views.transfer, name="transfer"),
    path("rollover/", transition_views.rollover, name="rollover"),
    path("rollover/<int:pk>/", transition_views.rollover_detail, name="rollover_detail"),
    path("counts/", transition_views.counts, name="counts"),
]
