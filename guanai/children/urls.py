from django.urls import path

from . import views, views_cards, views_xueji

app_name = "children"
urlpatterns = [
    path("", views.child_list, name="list"),
    path("new/", views.child_create, name="create"),
    path("cards.pdf", views.cards_print, name="cards_pdf"),
    path("cards/school/", views_cards.school_cards, name="cards_school"),
    path("cards/jobs/<int:pk>/", views_cards.cards_job, name="cards_job"),
    path("cards/jobs/<int:pk>/cards.pdf", views_cards.cards_job_pdf, name="cards_job_pdf"),
    path("<int:pk>/", views.child_detail, name="detail"),
    path("<int:pk>/edit/", views.child_edit, name="edit"),
    path("xueji/mismatch/", views_xueji.mismatch_list, name="xueji_mismatch"),
    path("xueji/export/", views_xueji.xueji_export, name="xueji_export"),
    path("minzheng/", views_xueji.minzheng_export, name="minzheng_export"),
    path("<int:pk>/minzheng.pdf", views_xueji.minzheng_card_pdf, name="minzheng_pdf"),
]
