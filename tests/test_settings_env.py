"""Settings come from the environment, strictly: no SECRET_KEY outside DEBUG is an error, not a default."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_settings(**env):
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "DATABASE_URL")}
    return subprocess.run([sys.executable, "-c", "import bridge.settings as s; print(s.HUMMINGBOT_TIMEOUT)"],
                          cwd=ROOT, env={**clean, **env}, capture_output=True, text=True)


def test_missing_secret_key_outside_debug_stops_start_up():
    result = load_settings(DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_values_are_parsed_strictly():
    assert load_settings(SECRET_KEY="k", HUMMINGBOT_TIMEOUT="2.5").stdout.strip() == "2.5"
    bad = load_settings(SECRET_KEY="k", HUMMINGBOT_TIMEOUT="soon")
    assert bad.returncode != 0 and "HUMMINGBOT_TIMEOUT must be a float, not 'soon'" in bad.stderr
    typo = load_settings(SECRET_KEY="k", DEBUG="ture")
    assert typo.returncode != 0 and "DEBUG must be true or false" in typo.stderr


def test_a_daily_report_hour_outside_a_day_stops_start_up():
    bad = load_settings(SECRET_KEY="k", DAILY_REPORT_HOUR="24")
    assert bad.returncode != 0 and "DAILY_REPORT_HOUR must be between 0 and 23, not 24" in bad.stderr
    assert load_settings(SECRET_KEY="k", DAILY_REPORT_HOUR="0").returncode == 0
