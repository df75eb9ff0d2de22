from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

# Outside DEBUG the docs pages send a browser to the admin login first (the schema itself needs a login too).
docs_login = (lambda view: view) if settings.API_DOCS_PUBLIC else staff_member_required

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script, so a strict CSP holds.
    path("api/docs", docs_login(SpectacularSwaggerSplitView.as_view(url_name="schema")), name="docs"),
    path("api/redoc", docs_login(SpectacularRedocView.as_view(url_name="schema")), name="redoc"),
    path("", include("bots.api.urls")),
]
