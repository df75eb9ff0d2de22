"""The admin index with the fleet overview."""
from django.contrib import admin
from django.utils import timezone

from bots import selectors, services
from bots.admin.forms import PeriodForm
from bots.hummingbot.errors import HummingbotError
from bots.models import HummingbotServer


def _index_with_overview(request, extra_context=None):
    """The admin index with the fleet overview (issue 10 item 3) above the model list, for whoever may see bots:
    each Hummingbot server's reachability, the balances of every server that answers, and volume and fees per account
    over a period chosen by GET parameters (PeriodForm)."""
    context = dict(extra_context or {})
    if request.user.has_perm("bots.view_bot"):
        servers = [(server, services.hummingbot_reachability(server)) for server in HummingbotServer.every()]
        balances, read_at, unread = [], [], []
        for server, reachable in servers:
            if not reachable["ok"]:  # a Hummingbot that is down is not asked again for balances
                unread.append(f"{server.name}: Hummingbot is unreachable.")
                continue
            try:
                portfolio = services.portfolio(server=server)
            except HummingbotError as exc:
                unread.append(f"{server.name}: {exc.message}")
                continue
            balances += portfolio.balances.items()
            read_at.append(portfolio.read_at)
        now = timezone.now()
        period = PeriodForm.of_query(request.GET)
        since, until = period.dates(now.date())  # timezone.now() is UTC: UTC days
        context.update(overview=selectors.fleet_overview(now=now, since=since, until=until), period_form=period,
                       hummingbots=servers, balances=sorted(balances), balances_read_at=min(read_at, default=None),
                       balances_unread=unread)
    return _site_index(request, context)


# The default site is kept (its URLs, login and permissions); only its index view gains the overview's context.
_site_index = admin.site.index
admin.site.index = _index_with_overview
