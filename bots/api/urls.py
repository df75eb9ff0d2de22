from django.urls import path

from bots import services
from bots.api import views

urlpatterns = [
    path("bots", views.BotsView.as_view(), name="bots"),
    path("bots/create", views.BotsView.as_view(http_method_names=["post", "options"]), name="bots-create"),
    path("bots/<str:key>", views.BotDetailView.as_view(), name="bot-detail"),
    path("bots/<str:key>/start", views.BotActionView.as_view(service=services.bot_start), name="bot-start"),
    path("bots/<str:key>/stop", views.BotActionView.as_view(service=services.bot_stop), name="bot-stop"),
    path("bots/<str:key>/trades", views.BotTradesView.as_view(), name="bot-trades"),
    path("strategies", views.StrategiesView.as_view(), name="strategies"),
    path("trades.csv", views.TradesCsvView.as_view(), name="trades-csv"),
    path("accounts", views.AccountsView.as_view(), name="accounts"),
    path("accounts/<str:name>/credentials/<str:connector>", views.CredentialsView.as_view(), name="credentials"),
    path("accounts/<str:name>/performance", views.AccountPerformanceView.as_view(), name="account-performance"),
    path("alerts", views.AlertsView.as_view(), name="alerts"),
    path("alerts/<str:alert_id>/acknowledge", views.AlertAcknowledgeView.as_view(), name="alert-acknowledge"),
    path("health", views.HealthView.as_view(), name="health"),
]
