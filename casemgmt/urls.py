"""URL configuration: the API under /api/v1/, the back office under /admin/."""

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path


def health(request: HttpRequest) -> JsonResponse:
    """Liveness for the load balancer; says nothing about data."""
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.routers")),
    path("healthz", health, name="health"),
]
if settings.BENCH:
    urlpatterns.append(path("bench/", include("bench.urls")))

handler500 = "api.exceptions.server_error"
