"""One exception family for every way a call to the Hummingbot API can fail.

`permanent` says whether the same call could succeed if simply repeated later: a refused
connection or a 503 is transient, a wrong password or a refused config is not.
"""


class HummingbotError(Exception):
    permanent = False
    code = "hummingbot_error"

    def __init__(self, message: str, *, status: int | None = None, detail=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.detail = detail

    def __str__(self):
        return self.message


class HummingbotUnreachable(HummingbotError):
    code = "hummingbot_unreachable"


class HummingbotTimeout(HummingbotUnreachable):
    code = "hummingbot_timeout"


class HummingbotAuthError(HummingbotError):
    permanent = True
    code = "hummingbot_auth"


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

    code = "hummingbot_bad_response"
