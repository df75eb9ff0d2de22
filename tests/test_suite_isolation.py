"""The suite's outcome never depends on the environment of the process that starts it (nor on a local .env)."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHOW = ("import bridge.test_settings as s; print(s.DEBUG, s.HUMMINGBOT_TIMEOUT, s.HUMMINGBOT_SANDBOX, s.Q_CLUSTER['sync'], "
        "s.BOTS_SYNC_SECONDS, s.VANISHED_AFTER_SECONDS, s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']['writes'])")


def test_the_shell_environment_never_changes_the_test_settings():
    shell = {"DEBUG": "true", "HUMMINGBOT_TIMEOUT": "0.01", "HUMMINGBOT_SANDBOX": "true", "Q_SYNC": "0",
             "BOTS_SYNC_SECONDS": "5", "VANISHED_AFTER_SECONDS": "1", "WRITE_THROTTLE_RATE": "3/min"}
    result = subprocess.run([sys.executable, "-c", SHOW], cwd=ROOT, env={**os.environ, **shell},
                            capture_output=True, text=True)
    assert result.stdout.split() == ["False", "2.0", "False", "True", "60", "60", "60/min"], result.stderr
