"""The bot status sets: which states allow which action. The one home for them (services, admin, API).

Lifecycle and its upstream mapping: docs/hummingbot-api.md (lifecycle).
"""
from datetime import timedelta

from bots.models import Bot

Status = Bot.Status

# Set before an upstream call and resolved by its answer or by the next status sync.
PENDING = (Status.DEPLOYING, Status.STARTING, Status.STOPPING, Status.ARCHIVING)
# May hold or place orders: the self-trade guard counts these.
ACTIVE = (Status.DEPLOYING, Status.STARTING, Status.RUNNING, Status.IDLE, Status.STOPPING)
STARTABLE = (Status.STOPPED, Status.ERROR, Status.NOT_FOUND)
STOPPABLE = (Status.RUNNING, Status.IDLE, Status.STARTING)
# A running bot re-reads its controller config every 10 s; any other state would apply a change only at start.
LIVE_CHANGEABLE = (Status.RUNNING, Status.IDLE)
# `deploying` too once its grace period is over (a create whose process died): see is_archivable.
ARCHIVABLE = (Status.STARTING, Status.RUNNING, Status.IDLE, Status.STOPPING, Status.STOPPED, Status.ERROR, Status.NOT_FOUND)
# What the kill switch stops: every state in which the bot may still place orders. `error` and `not_found` are
# our last reading, not proof the container is down; `stopping` always, because a stop is fire-and-forget
# (docs/hummingbot-api.md §2) and a bot still `stopping` has not been seen to obey: a second stop is harmless.
MAY_TRADE = (
    Status.DEPLOYING, Status.STARTING, Status.RUNNING, Status.IDLE, Status.ERROR, Status.NOT_FOUND, Status.STOPPING,
)

# What the upstream must show to confirm each pending state (archiving is confirmed by the archive).
EXPECTED_AFTER = {
    Status.DEPLOYING: (Status.RUNNING, Status.IDLE),
    Status.STARTING: (Status.RUNNING, Status.IDLE),
    Status.STOPPING: (Status.STOPPED,),
    Status.ARCHIVING: (),
}

# A pending state the upstream has not confirmed after this long is resolved to what it shows.
PENDING_GRACE = timedelta(minutes=2)
ARCHIVING_GRACE = timedelta(minutes=5)


def is_archivable(bot: Bot, *, now) -> bool:
    return bot.status in ARCHIVABLE or (bot.status == Status.DEPLOYING and now - bot.updated_at >= PENDING_GRACE)
