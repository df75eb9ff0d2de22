"""The control panel, a module per concern. Every button is a POST with CSRF that checks a permission and calls
one service."""
from django.contrib import admin

from bots.admin import accounts, alerts, bots, killswitch, ledger, overview, reports, servers, tasks  # noqa: F401 (registers them)
from bots.admin.ledger import TradeAdmin  # noqa: F401

# The left navigation repeats the index and takes 300 of 1366 px: without it the bot and trade lists fit (issue 10).
admin.site.enable_nav_sidebar = False
admin.site.site_url = None  # "View site" led to a debug 404: the panel is the site (issue 10)
