"""Progress output for the sync commands: one line updated in place on a terminal, plain lines elsewhere
(cron, django-q2 logs, pipes), so logs stay one event per line."""


class StatusLine:
    def __init__(self, stdout):
        self.stdout = stdout  # a command's OutputWrapper
        self.live = stdout.isatty()

    def update(self, text: str) -> None:
        """A transient state, replaced by the next update or line; shown on a terminal only."""
        if self.live:
            self.stdout.write(f"\r{text}\x1b[K", ending="")
            self.stdout.flush()

    def line(self, text: str) -> None:
        """A line that stays; on a terminal it replaces the transient one."""
        self.stdout.write(f"\r{text}\x1b[K" if self.live else text)


def per_second(count: int, seconds: float) -> str:
    return f"{count / max(seconds, 1e-3):,.0f}"
