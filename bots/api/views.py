"""Frontend API (docs/design.md §4). Each view parses input, calls one service or selector, renders."""
from datetime import datetime

import orjson
from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, Throttled, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from bots import selectors, services, strategies
from bots.csv_export import csv_response
from bots.api.errors import CONFIRMATION_MESSAGE, CREATE_BODY_FIELDS, named_as_in_request, params_key
from bots.api.permissions import ChangePermissions, ModelPermissions
from bots.api.serializers import (
    AccountPerformanceSerializer,
    AccountSerializer,
    AlertFilterSerializer,
    AlertPageSerializer,
    AlertSerializer,
    BotCreatedSerializer,
    BotCreateSerializer,
    BotDetailSerializer,
    BotListSerializer,
    BotParamsChangeSerializer,
    BotSerializer,
    CredentialsSerializer,
    PerformanceQuerySerializer,
    TradeExportFilterSerializer,
    TradeFilterSerializer,
    TradePageSerializer,
    TradeSerializer,
)
from bots.api.strategy_docs import CREATE_EXAMPLES, StrategyListSerializer, create_body_schema
from bots.models import Account, Alert, Bot, HummingbotServer, Trade

ERROR = inline_serializer(
    "Error",
    {"error": inline_serializer("ErrorBody", {"code": serializers.CharField(), "message": serializers.CharField(),
                                              "details": serializers.DictField()})},
)
UPSTREAM_ERRORS = {
    502: OpenApiResponse(ERROR, description="Hummingbot refused or failed"),
    503: OpenApiResponse(ERROR, description="Hummingbot unreachable"),
    504: OpenApiResponse(ERROR, description="Hummingbot timed out"),
}

CONFIRMATION_EXAMPLE = OpenApiExample(
    "Confirmation required", status_codes=["409"], response_only=True,
    value={"error": {"code": "confirmation_required", "message": CONFIRMATION_MESSAGE, "details": {"warnings": [
        {"code": "size_over_budget", "field": "config.order_amount",
         "message": "At 2950.83 USDT, 1 buy and 1 sell order(s) of 10 ETH are worth 59,016.60 USDT: over the 100 USDT "
                    "budget (order amount is in ETH, the base asset)."}]}}})
REFUSAL_EXAMPLE = OpenApiExample(
    "Refused by a pre-trade check", status_codes=["400"], response_only=True,
    value={"error": {"code": "invalid", "message": "connector: Hummingbot has no connector 'binanse': did you mean "
                                                   "binance?",
                     "details": {"connector": ["Hummingbot has no connector 'binanse': did you mean binance?"]}}})
PRETRADE_RESPONSES = {
    400: OpenApiResponse(ERROR, description="Invalid input, or refused by a pre-trade check (the field is the "
                                            "request's: connector, pair, account, config.<parameter>); nothing sent",
                         examples=[REFUSAL_EXAMPLE]),
    409: OpenApiResponse(ERROR, description="confirmation_required: pre-trade warnings in details.warnings, nothing "
                                            "sent; send the same body with \"confirm\": true to go ahead (PATCH: also "
                                            "conflict, when the bot is not running)",
                         examples=[CONFIRMATION_EXAMPLE]),
}

BOT_KEY = OpenApiParameter("key", str, OpenApiParameter.PATH, description="The bot's name (its `id`).")


def bot_list_etag(version: int, server_name: str | None) -> str:
    """The list's version (bots/list_version.py) and which list: weak, since `age_seconds` moves with the clock alone
    (the client has `synced_at`). Server names are slugs, safe inside the quotes."""
    return f'W/"{version}{":" + server_name if server_name is not None else ""}"'


# This process's last rendering of each list (key None: every server's bots), with its version: one version is one
# content (bots/list_version.py), so the polls between two syncs that send no ETag (a new client, a page's first
# load) get the same bytes instead of 1,000 rows built again. A new version replaces it.
_rendered: dict[str | None, tuple[int, bytes, datetime | None]] = {}


def _rendered_listing(refreshed: services.ListRefresh, server_name: str | None) -> tuple[bytes, datetime | None]:
    """The list as JSON but for `age_seconds`, and its `synced_at`. orjson renders 1,000 bots in well under a
    millisecond where DRF's encoder takes ~10 ms (bench/bots_list.py)."""
    version, content, synced_at = _rendered.get(server_name) or (None, b"", None)
    if version != refreshed.version:
        listing = selectors.bots_listing(refreshed.servers, server_name=server_name)
        content = orjson.dumps(listing, option=orjson.OPT_UTC_Z)  # datetimes as DRF renders them: ...Z
        synced_at = listing["synced_at"]
        _rendered[server_name] = (refreshed.version, content, synced_at)
    return content, synced_at


def listing_response(request, refreshed: services.ListRefresh, server_name: str | None) -> HttpResponseBase:
    """304 without a body, and without building anything, when the client holds the list's version; else the list
    with its age appended."""
    etag = bot_list_etag(refreshed.version, server_name)
    response = get_conditional_response(request, etag=etag)
    if response is None:
        content, synced_at = _rendered_listing(refreshed, server_name)
        age = None if synced_at is None else int((timezone.now() - synced_at).total_seconds())
        response = HttpResponse(content[:-1] + b',"age_seconds":' + orjson.dumps(age) + b"}",
                                content_type="application/json")
    response["ETag"] = etag
    patch_cache_control(response, private=True, no_cache=True)  # a browser's fetch() then sends If-None-Match
    return response


class BotsView(APIView):
    queryset = Bot.objects.all()
    permission_classes = [ModelPermissions]

    @extend_schema(operation_id="bots_list",
                   responses={200: BotListSerializer, 304: None,
                              400: OpenApiResponse(ERROR, description="Unknown server")},
                   parameters=[OpenApiParameter("server", str, description="Only the bots of this Hummingbot server.")],
                   summary="All bots from the database, refreshed from Hummingbot at most every BOTS_SYNC_SECONDS")
    def get(self, request):
        server = request.query_params.get("server")
        try:
            refreshed = services.bots_refresh_if_due(server_name=server)
        except HummingbotServer.DoesNotExist:
            raise ValidationError({"server": f"Unknown Hummingbot server {server!r}."}) from None
        return listing_response(request, refreshed, server)

    @extend_schema(
        request=create_body_schema(), examples=CREATE_EXAMPLES,
        responses={201: BotCreatedSerializer, **PRETRADE_RESPONSES, **UPSTREAM_ERRORS},
        summary="Create and deploy a bot, once the pre-trade checks pass (or their warnings are confirmed)",
        description="The body per strategy: its parameters, in desk units, nest in `config` (or `params`); GET "
                    "/strategies gives each one's type, unit, range, default and whether it changes live. Field errors "
                    "name what the request sent: `pair`, `config.order_amount`.",
    )
    def post(self, request):
        data = BotCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        with named_as_in_request(body_fields=CREATE_BODY_FIELDS, params_key=params_key(request.data)):
            bot = services.bot_create(
                name=fields["name"], account=fields["account"], strategy=fields["strategy"],
                connector=fields["connector"], trading_pair=fields["pair"], params=fields["params"], user=request.user,
                confirm=fields["confirm"],
            )
        created = BotCreatedSerializer(bot, context={"warnings": selectors.bot_market_warnings(bot)})
        return Response(created.data, status=status.HTTP_201_CREATED)


class StrategiesView(APIView):
    queryset = Bot.objects.all()  # who may see bots may see how they are made
    permission_classes = [ModelPermissions]

    @extend_schema(responses={200: StrategyListSerializer},
                   summary="Each strategy's parameters: key, type, unit, range, default, whether it changes live")
    def get(self, request):
        return Response(StrategyListSerializer({"strategies": strategies.strategy_facts()}).data)


class BotDetailView(APIView):
    queryset = Bot.objects.all()
    permission_classes = [ChangePermissions]

    @extend_schema(parameters=[BOT_KEY], responses={200: BotDetailSerializer, 404: ERROR},
                   summary="One bot, its recent events and live performance")
    def get(self, request, key):
        bot = selectors.bot_get(key)
        context = {
            "events": selectors.bot_recent_events(bot),
            "trades": selectors.bot_trade_summary(bot),
            "upstream": services.bot_upstream_detail(bot),
        }
        return Response(BotDetailSerializer(bot, context=context).data)

    @extend_schema(request=BotParamsChangeSerializer, parameters=[BOT_KEY],
                   responses={200: BotSerializer, 404: ERROR, **PRETRADE_RESPONSES, **UPSTREAM_ERRORS},
                   summary="Change a running bot's live parameters in Hummingbot, once the pre-trade checks pass "
                           "(confirmed by reading them back)")
    def patch(self, request, key):
        bot = selectors.bot_get(key)
        data = BotParamsChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # Every key of a change is inside the object sent: `config.trading_pair`, not `trading_pair`.
        with named_as_in_request(body_fields={}, params_key=params_key(request.data)):
            bot = services.bot_update_params(bot=bot, user=request.user, **data.validated_data)
        return Response(BotSerializer(bot).data)

    @extend_schema(parameters=[BOT_KEY], responses={202: BotSerializer, 404: ERROR, 409: ERROR, **UPSTREAM_ERRORS},
                   summary="Stop and archive the bot in Hummingbot; the row and its trades stay")
    def delete(self, request, key):
        bot = services.bot_archive(bot=selectors.bot_get(key), user=request.user)
        return Response(BotSerializer(bot).data, status=status.HTTP_202_ACCEPTED)


class BotActionView(APIView):
    """POST /bots/{key}/start and /stop: 202 with the pending status."""

    queryset = Bot.objects.all()
    permission_classes = [ChangePermissions]
    service = None  # set in urls: services.bot_start or services.bot_stop

    @extend_schema(request=None, parameters=[BOT_KEY],
                   responses={202: BotSerializer, 404: ERROR, 409: ERROR, **UPSTREAM_ERRORS})
    def post(self, request, key):
        bot = self.service(bot=selectors.bot_get(key), user=request.user)
        return Response(BotSerializer(bot).data, status=status.HTTP_202_ACCEPTED)


class AccountsView(APIView):
    queryset = Account.objects.all()
    permission_classes = [ModelPermissions]

    @extend_schema(responses={200: inline_serializer("AccountList", {"accounts": AccountSerializer(many=True)})})
    def get(self, request):
        return Response({"accounts": AccountSerializer(Account.objects.select_related("server"), many=True).data})

    @extend_schema(request=AccountSerializer, responses={201: AccountSerializer, 400: ERROR, **UPSTREAM_ERRORS})
    def post(self, request):
        data = AccountSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account = services.account_create(**data.validated_data, user=request.user)
        return Response(AccountSerializer(account).data, status=status.HTTP_201_CREATED)


class CredentialsView(APIView):
    queryset = Account.objects.all()
    permission_classes = [ChangePermissions]

    @extend_schema(request=CredentialsSerializer, responses={204: None, 400: ERROR, 404: ERROR, **UPSTREAM_ERRORS},
                   summary="Forward exchange keys to Hummingbot (never stored or echoed)")
    def post(self, request, name, connector):
        account = selectors.account_get(name)
        data = CredentialsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.account_add_credentials(
            account=account, connector=connector, fields=data.validated_data["credentials"], user=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class AccountPerformanceView(APIView):
    """Read like the account list (view_account), from the daily rollups, never the ledger (docs/design.md §12)."""

    queryset = Account.objects.all()
    permission_classes = [ModelPermissions]

    @extend_schema(parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH, description="The account's name."),
                               PerformanceQuerySerializer],
                   responses={200: AccountPerformanceSerializer, 400: ERROR, 404: ERROR},
                   summary="An account's fills, volume and fees per quote asset, bot and UTC day over a period")
    def get(self, request, name):
        account = selectors.account_get(name)
        totals = selectors.ledger_totals(**query_filters(PerformanceQuerySerializer, request), account=account)
        days = [{"quote": quote, **day} for quote, by_day in totals["days"].items() for day in by_day]
        return Response(AccountPerformanceSerializer({
            "account": account.name, "since": totals["since"], "until": totals["until"], "totals": totals["totals"],
            "bots": totals["rows"], "days": days,
        }).data)


class HealthView(APIView):
    """Open to probes, which learn only ok / not ok, overall and for the database and Hummingbot; the per-server
    report (versions, errors that could name an upstream URL) is for staff and holders of DETAILS_PERMISSION, not
    for any token (issue 15). One check serves every caller for HEALTH_CACHE_SECONDS, so a probe a second stays
    cheap."""

    DETAILS_PERMISSION = "bots.view_hummingbotserver"

    permission_classes = [AllowAny]

    # The cache (throttle counts, the report) is a database table or Redis: when it is down, /health must still
    # answer, unthrottled and uncached, to say what is down.
    def check_throttles(self, request):
        try:
            super().check_throttles(request)
        except Throttled:
            raise
        except Exception:
            pass

    @extend_schema(responses={200: OpenApiResponse(description="all ok"), 503: OpenApiResponse(description="degraded")})
    def get(self, request):
        try:
            report = cache.get_or_set("health-report", services.system_health, settings.HEALTH_CACHE_SECONDS)
        except Exception:
            report = services.system_health()
        user = request.user
        if not (user.is_staff or user.has_perm(self.DETAILS_PERMISSION)):
            report = {"ok": report["ok"], "database": {"ok": report["database"]["ok"]},
                      "hummingbot": {"ok": report["hummingbot"]["ok"]}}
        return Response(report, status=200 if report["ok"] else 503)


def query_filters(serializer_class, request) -> dict:
    """Filters read as plain values: an empty `?until=` is refused, where DRF's form rule would skip it."""
    filters = serializer_class(data=request.query_params.dict())
    filters.is_valid(raise_exception=True)
    return filters.validated_data


class TradePagination(CursorPagination):
    """Cursor pages stay one query deep into 100k trades (no OFFSET scan, no COUNT)."""

    ordering = ("-timestamp", "-id")
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


TRADE_PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="Opaque: taken from a page's `next` or `previous`."),
    OpenApiParameter("page_size", int, description=f"At most {TradePagination.max_page_size}."),
]


class BotTradesView(APIView):
    queryset = Trade.objects.all()
    permission_classes = [ModelPermissions]

    @extend_schema(parameters=[BOT_KEY, TradeFilterSerializer, *TRADE_PAGE_PARAMETERS],
                   responses={200: TradePageSerializer, 400: ERROR, 404: ERROR},
                   summary="A bot's trades, newest first (cursor pages)")
    def get(self, request, key):
        bot = selectors.bot_get(key)
        filters = query_filters(TradeFilterSerializer, request)
        paginator = TradePagination()
        page = paginator.paginate_queryset(selectors.bot_trades(bot, **filters), request, view=self)
        return paginator.get_paginated_response(TradeSerializer(page, many=True).data)


class TradesCsvView(APIView):
    queryset = Trade.objects.all()
    permission_classes = [ModelPermissions]

    @extend_schema(parameters=[TradeExportFilterSerializer], responses={(200, "text/csv"): OpenApiTypes.STR, 400: ERROR},
                   summary="All matching trades as CSV, streamed")
    def get(self, request):
        rows = selectors.trades_for_export(**query_filters(TradeExportFilterSerializer, request))
        header = ["bot", "account", "trade_id", "timestamp", "trading_pair", "side", "price", "amount", "fee_quote"]
        return csv_response("trades.csv", header, rows)


class AlertPagination(TradePagination):
    ordering = ("-opened_at", "-id")


class AlertsView(APIView):
    queryset = Alert.objects.all()
    permission_classes = [ModelPermissions]

    @extend_schema(parameters=[AlertFilterSerializer, *TRADE_PAGE_PARAMETERS],
                   responses={200: AlertPageSerializer, 400: ERROR,
                              404: OpenApiResponse(ERROR, description="Unknown bot")},
                   summary="Alerts, newest first (cursor pages): open, acknowledged or resolved")
    def get(self, request):
        filters = query_filters(AlertFilterSerializer, request)
        bot = selectors.bot_get(filters["bot"]) if "bot" in filters else None
        paginator = AlertPagination()
        page = paginator.paginate_queryset(selectors.alerts(state=filters.get("state"), bot=bot), request, view=self)
        return paginator.get_paginated_response(AlertSerializer(page, many=True).data)


class AlertAcknowledgeView(APIView):
    queryset = Alert.objects.all()
    permission_classes = [ChangePermissions]

    @extend_schema(request=None, parameters=[OpenApiParameter("alert_id", int, OpenApiParameter.PATH)],
                   responses={200: AlertSerializer, 404: ERROR, 409: ERROR},
                   summary="Acknowledge an open alert: no more reminders; its resolution is still notified")
    def post(self, request, alert_id):
        alert = selectors.alert_get(alert_id)
        if alert is None:
            raise NotFound(f"No alert #{alert_id[:20]}.")
        return Response(AlertSerializer(services.alert_acknowledge(alert=alert, user=request.user)).data)
