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


def log_in(page, base_url: str, username: str, password: str) -> None:
    """The admin login form, as a person fills it."""
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
