"""One exception family for every way a call to the Hummingbot API can fail.

`permanent` says whether the same call could succeed if simply repeated later: a refused
connection or a 503 is transient, a wrong password or a refused config is not.
`outcome_unknown` says whether the server may have acted although no answer was read (a timeout, a
connection dropped after sending, a gateway error, an unreadable answer): a deploy that failed this way
may have created a bot.
"""


class HummingbotError(Exception):
    permanent = False
    outcome_unknown = False
    code = "hummingbot_error"

    def __init__(self, message: str, *, status: int | None = None, detail=None, outcome_unknown: bool | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.detail = detail
        if outcome_unknown is not None:
            self.outcome_unknown = outcome_unknown

    def __str__(self):
        return self.message


class HummingbotUnreachable(HummingbotError):
    code = "hummingbot_unreachable"


class HummingbotTimeout(HummingbotUnreachable):
    outcome_unknown = True
    code = "hummingbot_timeout"


class HummingbotAuthError(HummingbotError):
    permanent = True
    code = "hummingbot_auth"


class HummingbotNotConfigured(HummingbotAuthError):
    """A server's password variable is not set in this process's environment: no call was sent."""

    code = "hummingbot_not_configured"


class HummingbotNotFound(HummingbotError):
    permanent = True
    code = "hummingbot_not_found"


class HummingbotRejected(HummingbotError):
    """The upstream understood the request and said no (4xx, or a failure inside HTTP 200)."""

    permanent = True
    code = "hummingbot_rejected"


class HummingbotServerError(HummingbotError):
    code = "hummingbot_server_error"


class HummingbotBadResponse(HummingbotError):
    """The upstream answered something that is not the documented shape (not JSON, wrong type)."""

    outcome_unknown = True
    code = "hummingbot_bad_response"


class HummingbotAccountMissing(HummingbotError):
    """Hummingbot has no credentials folder for the account: deploy answers HTTP 500 "No such file or directory:
    'bots/credentials/<account>'" (docs/hummingbot-api.md §3), e.g. after the server was reset. Only recreating
    the account there (and entering its keys again) helps."""

    permanent = True
    code = "hummingbot_account_missing"

    def __init__(self, account: str, *, status: int | None = None):
        super().__init__(
            f"Hummingbot no longer has account {account}: Recreate it in Hummingbot (keys must be entered again).",
            status=status, detail={"account": account},
        )
        self.account = account


class HummingbotControllerUnverified(HummingbotError):
    """The code Hummingbot keeps under a controller's content-versioned name is not the version a bot is to run, and
    uploading it again did not help (or this release does not ship that version): nothing is deployed with it
    (docs/design.md §11)."""

    permanent = True
    code = "hummingbot_controller_unverified"
