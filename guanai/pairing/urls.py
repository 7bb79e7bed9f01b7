from django.urls import path

from . import views, views_proxies, views_responsibility

app_name = "pairing"
urlpatterns = [
    path("", views.pair_list, name="list"),
    path("propose/", views.propose, name="propose"),
    path("accept/", views.accept, name="accept"),
    path("<int:pk>/", views.pair_detail, name="detail"),
    path("<int:pk>/swap/", views.swap, name="swap"),
    path("<int:pk>/end/", views.end, name="end"),
    path("<int:pk>/follow/", views.follow, name="follow"),
    path("responsibility/", views_responsibility.responsibility, name="responsibility"),
    path("responsibility/grade/", views_responsibility.assign_grade, name="assign_grade"),
    path("responsibility/class/", views_responsibility.assign_class, name="assign_class"),
    path(
        "responsibility/<int:pk>/end/",
        views_responsibility.end_assignment,
        name="end_responsibility",
    ),
    path(
        "responsibility/class/<int:pk>/",
        views_responsibility.class_children,
        name="class_children",
    ),
    path(
        "responsibility/class/<int:pk>/fill/",
        views_responsibility.fill_responsible,
        name="fill_responsible",
    ),
    path("work/", views_responsibility.work, name="work"),
    path("work/<int:user_pk>/", views_responsibility.work, name="person_work"),
    path("proxies/", views_proxies.proxy_list, name="proxies"),
    path("proxies/new/", views_proxies.proxy_create, name="proxy_create"),
    path("proxies/mine/", views_proxies.my_children, name="my_children"),
    path("proxies/<int:pk>/", views_proxies.proxy_detail, name="proxy_detail"),
    path("proxies/<int:pk>/edit/", views_proxies.proxy_edit, name="proxy_edit"),
    path("proxies/<int:pk>/assign/", views_proxies.proxy_assign, name="proxy_assign"),
    path("proxies/<int:pk>/retire/", views_proxies.proxy_retire, name="proxy_retire"),
    path(
        "proxies/assignments/<int:pk>/end/",
        views_proxies.proxy_assignment_end,
        name="proxy_assignment_end",
    ),
]
