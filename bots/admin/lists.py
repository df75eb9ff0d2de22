"""What keeps the trade changelist fast on a million-row ledger (issue 10): a paginator that counts only a few
pages ahead, and filters whose choices come from the small tables, never from a scan of the trades.

The filters' query parameters are the CSV export's (bot, account, side, since, until), so "Export CSV" carries
the changelist's own filters to /trades.csv.
"""
from functools import cached_property

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.paginator import Paginator
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from bots.models import Account, Bot, Trade

EXPORT_PARAMETERS = ("bot", "account", "side", "since", "until")


class LookaheadPaginator(Paginator):
    """Counts at most LOOKAHEAD_PAGES past the page shown: COUNT(*) over the ledger took seconds, while counting
    to page N + 10 costs about what page N's OFFSET costs anyway. `more` says the count stopped at the cap."""

    LOOKAHEAD_PAGES = 10

    def __init__(self, object_list, per_page, *, page: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = (max(page, 1) + self.LOOKAHEAD_PAGES) * per_page
        self.more = False

    @cached_property
    def count(self) -> int:
        counted = self.object_list[: self.cap + 1].count()
        self.more = counted > self.cap
        return min(counted, self.cap)


class FormFilter(admin.ListFilter):
    """A filter drawn as a small GET form that keeps the other filters: cheap to render however many choices
    there are (1,000 bots as links cost more than the page's queries), and typed values such as dates fit."""

    parameters: tuple[str, ...] = ()

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        for name in self.parameters:
            if name in params:
                self.used_parameters[name] = params.pop(name)[-1]

    def has_output(self):
        return True

    def expected_parameters(self):
        return list(self.parameters)

    def value(self, name: str) -> str:
        return self.used_parameters.get(name, "")

    def choices(self, changelist):
        others = [(key, value) for key, values in self.request.GET.lists() if key not in {*self.parameters, "p"}
                  for value in values]
        yield {"others": others, "values": {name: self.value(name) for name in self.parameters},
               "suggestions": self.suggestions(),
               "clear_url": changelist.get_query_string(remove=[*self.parameters, "p"])}

    def suggestions(self) -> list[str]:
        return []


class NameFilter(FormFilter):
    """A name typed or picked from the names of a small table (never a DISTINCT over the trades)."""

    template = "admin/bots/trade/name_filter.html"
    model = lookup = None

    def suggestions(self):
        return list(self.model.objects.order_by("name").values_list("name", flat=True))

    def queryset(self, request, queryset):
        name = self.value(self.parameters[0])
        return queryset.filter(**{self.lookup: name}) if name else queryset


class BotFilter(NameFilter):
    title, parameters, model, lookup = "bot", ("bot",), Bot, "bot__name"


class AccountFilter(NameFilter):
    title, parameters, model, lookup = "account", ("account",), Account, "bot__account__name"


class SideFilter(admin.SimpleListFilter):
    title, parameter_name = "side", "side"

    def lookups(self, request, model_admin):
        return Trade.Side.choices

    def queryset(self, request, queryset):
        return queryset.filter(side=self.value()) if self.value() else queryset


class DateRangeFilter(FormFilter):
    """From/to on the timestamp index (since inclusive, until exclusive), instead of date_hierarchy, whose
    year/month links run a DISTINCT over every trade on each page view."""

    title = "time (UTC)"
    template = "admin/bots/trade/date_range_filter.html"
    parameters = ("since", "until")

    def queryset(self, request, queryset):
        if since := self.value("since"):
            queryset = queryset.filter(timestamp__gte=_parse_moment("since", since))
        if until := self.value("until"):
            queryset = queryset.filter(timestamp__lt=_parse_moment("until", until))
        return queryset


def _parse_moment(name: str, value: str):
    """The same ISO 8601 forms /trades.csv accepts (a date is its midnight); naive means UTC."""
    try:
        moment = parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None:
        raise IncorrectLookupParameters(f"{name}: not an ISO 8601 date or time: {value!r}")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, timezone.get_current_timezone())


def export_query(request) -> str:
    """The changelist's filters as the query string of /trades.csv (never taken from a row of the page)."""
    query = request.GET.copy()
    for key in list(query):
        if key not in EXPORT_PARAMETERS:
            del query[key]
    return f"?{query.urlencode()}" if query else ""
