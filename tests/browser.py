"""Debian's chromium for the browser tests, driven by Playwright: never a downloaded browser (.ci/run installs it)."""
import shutil

CHROMIUM = shutil.which("chromium")


def launch_chromium(playwright):
    """Headless, with nothing of its own going to the network (updates, sync, first-run pages)."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--no-first-run"],
    )
