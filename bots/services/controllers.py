"""Our reviewed controller upstream: stored under a content-versioned name and trusted only once the code Hummingbot
keeps under that name has been read back and found to be that version (docs/design.md §11)."""
from __future__ import annotations

import hashlib

from bots import strategies
from bots.hummingbot.errors import HummingbotControllerUnverified, HummingbotNotFound

# (server URL, sha256) read back and found equal by this process. Nothing else overwrites a versioned name in normal
# operation, so one check per process and server is enough; a new process checks again.
_verified: set[tuple[str, str]] = set()


def ensure_volume_taker(client, sha256: str) -> None:
    """Make sure Hummingbot stores the volume controller version `sha256` under its versioned name, before a deploy
    whose config names it. This release's version is uploaded when missing or different, then read again; an older
    version (a bot keeps the one it was deployed with) can only be checked. Raises HummingbotControllerUnverified."""
    key = (client.base_url, sha256)
    if key in _verified:
        return
    release = strategies.volume_taker()
    controller_type, name = strategies.controller_ref("volume", sha256)
    if _stored_sha256(client, controller_type, name) != sha256:
        if sha256 != release.sha256:
            raise HummingbotControllerUnverified(
                f"Hummingbot no longer stores the controller this bot was deployed with ({controller_type}/{name}) as "
                f"it was: not deploying it again with other code. This release ships {release.name}: archive this bot "
                "and create a new bot to run it."
            )
        client.upload_controller(controller_type, name, release.source)
        if _stored_sha256(client, controller_type, name) != sha256:
            raise HummingbotControllerUnverified(
                f"Hummingbot keeps other code than the reviewed controller under {controller_type}/{name}, even after "
                f"uploading it again: not deploying. Check that server's bots/controllers/{controller_type} folder "
                "(disk, permissions, something rewriting files)."
            )
    _verified.add(key)


def _stored_sha256(client, controller_type: str, name: str) -> str | None:
    try:
        content = client.controller_source(controller_type, name)
    except HummingbotNotFound:
        return None
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def forget_checks() -> None:
    """Read every version back again before its next use (tests: a fresh process)."""
    _verified.clear()
