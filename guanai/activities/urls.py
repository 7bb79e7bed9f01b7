from django.urls import path

from . import views, views_donations, views_homes

app_name = "activities"
urlpatterns = [
    path("", views.activity_list, name="list"),
    path("new/", views.activity_new, name="new"),
    path("coverage/", views.coverage, name="coverage"),
    path("<int:pk>/", views.activity_detail, name="detail"),
    path("<int:pk>/attendance/", views.attendance, name="attendance"),
    path("<int:pk>/publicity/", views.publicity, name="publicity"),
    path("<int:pk>/photos/", views.photo_upload, name="photo_upload"),
    path("photos/<int:pk>/", views.photo, name="photo"),
    path("donations/", views_donations.donation_list, name="donations"),
    path("donations/fairness/", views_donations.fairness, name="fairness"),
    path("donations/<int:pk>/", views_donations.donation_detail, name="donation"),
    path(
        "donations/<int:pk>/certificate/", views_donations.donation_certificate, name="certificate"
    ),
    path("homes/", views_homes.home_list, name="homes"),
    path("homes/<int:pk>/", views_homes.home_door, name="home"),
    path("homes/<int:pk>/sign/", views_homes.home_sign, name="sign"),
    path("homes/<int:pk>/call/<int:child_id>/", views_homes.home_call, name="call"),
    path("homes/<int:pk>/use/", views_homes.home_use, name="use"),
    path("homes/<int:pk>/rota/", views_homes.home_rota, name="rota"),
    path("child/<int:child_id>/", views.child_activities, name="child"),
]
