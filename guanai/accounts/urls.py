from django.contrib.auth import views as auth_views
from django.urls import path

from . import views, views_access

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/otp/", views.otp_login, name="otp"),
    path("2fa/", views.twofa, name="twofa"),
    path("me/", views.account, name="account"),
    path("me/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("users/", views.user_list, name="users"),
    path("users/new/", views.user_edit, name="user_new"),
    path("users/<int:pk>/", views.user_edit, name="user_edit"),
    path("users/<int:pk>/roles/", views.role_add, name="role_add"),
    path("users/<int:pk>/roles/<int:role_pk>/end/", views.role_end, name="role_end"),
    path(
        "users/<int:pk>/tokens/<int:token_pk>/revoke/",
        views.user_token_revoke,
        name="user_token_revoke",
    ),
    path("access-log/", views.access_log, name="access_log"),
    path("access-requests/", views_access.my_requests, name="access_requests"),
    path("access-requests/inbox/", views_access.inbox, name="access_inbox"),
    path(
        "access-requests/new/<int:child_pk>/",
        views_access.request_new,
        name="access_request_new",
    ),
    path("access-requests/<int:pk>/", views_access.request_detail, name="access_request"),
    path(
        "access-requests/<int:pk>/decide/",
        views_access.request_decide,
        name="access_request_decide",
    ),
    path(
        "access-requests/<int:pk>/withdraw/",
        views_access.request_withdraw,
        name="access_request_withdraw",
    ),
    path("emergency/", views_access.emergencies, name="emergencies"),
    path("emergency/new/<int:child_pk>/", views_access.emergency_new, name="emergency_new"),
    path("emergency/<int:pk>/review/", views_access.emergency_review, name="emergency_review"),
]
