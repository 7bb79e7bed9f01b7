from django.contrib import admin
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView, TemplateView

from guanai import home
from guanai.api import api
from guanai.jobs.services import health_problems


def healthz(request: HttpRequest) -> HttpResponse:
    """200 {"status": "ok"} when the database answers and the background work moves; else 503
    saying what is wrong: the database, a worker whose heartbeat stopped, a job queued or
    running past its limit (jobs.services.health_problems)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        problems = health_problems()
    except Exception:  # noqa: BLE001 — any database failure means unhealthy
        return JsonResponse({"status": "database unavailable"}, status=503)
    if problems:
        return JsonResponse(
            {"status": "unhealthy", "problems": problems},
            status=503,
            json_dumps_params={"ensure_ascii": False},
        )
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("", home.home, name="home"),
    path("healthz", healthz, name="healthz"),
    # browsers ask for /favicon.ico whatever the page says
    path("favicon.ico", RedirectView.as_view(url=static("favicon.ico"), permanent=True)),
    path("help/", TemplateView.as_view(template_name="help.html"), name="help"),
    path("accounts/", include("guanai.accounts.urls")),
    path("children/", include("guanai.children.urls")),
    path("org/", include("guanai.org.urls")),
    path("contacts/", include("guanai.contacts.urls")),
    path("screening/", include("guanai.screening.urls")),
    path("jobs/", include("guanai.jobs.urls")),
    path("pairing/", include("guanai.pairing.urls")),
    path("care/", include("guanai.care.urls")),
    path("activities/", include("guanai.activities.urls")),
    path("offline/", include("guanai.offline.urls")),
    path("villages/", include("guanai.villages.urls")),
    path("privacy/", include("guanai.privacy.urls")),
    path("inspections/", include("guanai.inspections.urls")),
    path("protection/", include("guanai.protection.urls")),
    path("stats/", include("guanai.stats.urls")),
    path("api/v1/", api.urls),
    path("django-admin/", admin.site.urls),
]
