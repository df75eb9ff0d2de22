from django.urls import path

from bots.api import views

urlpatterns = [
    path("health", views.HealthView.as_view(), name="health"),
]
