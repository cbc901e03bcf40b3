"""URL configuration: the API under /api/v1/, the back office under /admin/.

/healthz, /readyz (casemgmt/health.py) and /metrics (casemgmt/metrics.py) are answered by middleware.
"""

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path

from api.exceptions import api_not_found

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.routers")),
]
if settings.BENCH:
    urlpatterns.append(path("bench/", include("bench.urls")))

# Every other path under /api/ answers 404 in the API's error shape (also with DEBUG on).
urlpatterns.append(re_path(r"^api/", api_not_found))

handler400 = "api.exceptions.bad_request"
handler403 = "api.exceptions.permission_denied"
handler404 = "api.exceptions.not_found"
handler500 = "api.exceptions.server_error"
