"""scripts/demo.sh (`make demo`): it stops every process it starts however it is stopped; a restart keeps the state."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

DEMO = Path(__file__).resolve().parent.parent / "scripts" / "demo.sh"
BACKGROUND_JOB = re.compile(r"(?<!&)&\s*$")


def test_every_background_job_of_the_demo_is_the_process_its_cleanup_kills():
    """`a && b &` backgrounds a subshell: `$!` is that shell, and SIGTERM to the demo left `b` running."""
    jobs = [line.strip() for line in DEMO.read_text().splitlines() if BACKGROUND_JOB.search(line)]
    assert len(jobs) == 3  # the sandbox, the qcluster, the panel
    compound = [job for job in jobs if not job.startswith('"$PYTHON" ') or re.search(r"&&|\|\||;|\|", job[:-1])]
    assert compound == []


# --------------------------------------------------------------------------- the demo, run for real


ROOT = DEMO.parent.parent
HANG_GUARD = 600  # seconds; only catches a hang, nothing here measures speed


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def descendants(root: int) -> dict[int, str]:
    """pid -> command line of every live process under `root`."""
    parents, commands = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and alive(int(entry)):
            try:
                parents[int(entry)] = int(Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()[1])
                commands[int(entry)] = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:  # ended meanwhile
                continue
    found, frontier = {}, {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier and pid not in found}
        found.update({pid: commands[pid].strip() for pid in frontier})
    return found


def alive(pid: int) -> bool:
    """A zombie has ended: an orphan's is reaped by PID 1, which in a container may never do it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def default_stop_signals():
    """A terminal starts the demo with the stop signals at their defaults. This suite may itself run as a
    background job (`make test &`, nohup), where SIGINT and SIGHUP are ignored and the ignore is inherited:
    a non-interactive bash cannot trap a signal ignored on entry, so the script would never see Ctrl-C."""
    for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGQUIT):
        signal.signal(signum, signal.SIG_DFL)


class Demo:
    """scripts/demo.sh in its own session (a process group, like a terminal's foreground job), on free ports and
    with its database and var/ in a temporary folder."""

    def __init__(self, tmp_path: Path, sandbox_password: str):
        self.panel, self.sandbox = free_port(), free_port()
        self.var = tmp_path / "var"
        self.password = sandbox_password
        self.output = tmp_path / f"demo-{sandbox_password}.log"
        self.seen: dict[int, str] = {}  # what a failed test kills
        inherited = {name: value for name, value in os.environ.items() if name != "DJANGO_SETTINGS_MODULE"}
        env = {**inherited, "PANEL_PORT": str(self.panel), "SANDBOX_PORT": str(self.sandbox),
               "DEMO_SANDBOX_PASSWORD": sandbox_password, "DEMO_PYTHON": sys.executable,
               "DEMO_VAR": str(self.var), "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}"}
        with open(self.output, "w") as output:
            self.proc = subprocess.Popen(["bash", str(DEMO)], cwd=ROOT, env=env, stdout=output,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         preexec_fn=default_stop_signals)

    def log(self) -> str:
        return self.output.read_text()

    def wait_for_the_panel(self):
        deadline = time.monotonic() + HANG_GUARD
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"demo.sh ended early:\n{self.log()}"
            try:
                if requests.get(f"http://127.0.0.1:{self.panel}/admin/login/", timeout=30).status_code == 200:
                    self.seen = descendants(self.proc.pid)
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.5)  # polling pace, not a deadline
        pytest.fail(f"the panel never answered:\n{self.log()}")

    def sandbox_call(self, method, path, **kwargs):
        return requests.request(method, f"http://127.0.0.1:{self.sandbox}{path}", auth=("admin", self.password),
                                timeout=60, **kwargs)

    def stop(self, send):
        """Send the stop signal, wait for the script, and return what was running under it before."""
        running = self.seen = descendants(self.proc.pid)
        send(self.proc.pid)
        self.proc.wait(timeout=HANG_GUARD)
        return running

    def kill_leftovers(self):
        for pid in [self.proc.pid, *self.seen]:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait()


def kill_script(signum):
    return lambda pid: os.kill(pid, signum)


def kill_group(signum):
    return lambda pid: os.killpg(pid, signum)


def assert_everything_stopped(demo, running):
    names = " ".join(running.values())
    assert "-m sandbox" in names and "qcluster" in names and "runserver" in names, running
    assert {pid: command for pid, command in running.items() if alive(pid)} == {}, demo.log()
    # One stop signal each: a second one while the qcluster stops makes it hang (timing decides; this does not)
    assert (demo.var / "qcluster.log").read_text().count(" stopping.") == 1


@pytest.fixture
def demos(tmp_path):
    started = []

    def start(password):
        started.append(Demo(tmp_path, password))
        return started[-1]
    yield start
    for demo in started:
        demo.kill_leftovers()


def test_a_restarted_demo_still_knows_the_accounts_and_every_child_stops_with_the_script(demos):
    """SIGTERM to the script (`kill <pid>`), then Ctrl-C (SIGINT to the terminal's whole process group)."""
    first = demos("first-run-pw")
    first.wait_for_the_panel()
    assert first.sandbox_call("POST", "/accounts/add-account", params={"account_name": "client_sharp"}).ok
    assert_everything_stopped(first, first.stop(kill_script(signal.SIGTERM)))
    assert json.loads((first.var / "sandbox-state.json").read_text())["version"] == 1

    second = demos("second-run-pw")  # a new random password each run: the state does not depend on it
    second.wait_for_the_panel()
    assert second.sandbox_call("GET", "/accounts/").json() == ["master_account", "client_sharp"]
    assert_everything_stopped(second, second.stop(kill_group(signal.SIGINT)))


def test_closing_the_demos_terminal_stops_every_child(demos):
    """The terminal closing: SIGHUP to the process group."""
    demo = demos("hangup-pw")
    demo.wait_for_the_panel()
    assert_everything_stopped(demo, demo.stop(kill_group(signal.SIGHUP)))


def test_the_readme_names_every_variable_and_file_the_demo_honours():
    honoured = set(re.findall(r"\$\{(\w+):-", DEMO.read_text()))
    assert {"PANEL_PORT", "SANDBOX_PORT", "DEMO_SANDBOX_PASSWORD", "DEMO_VAR", "DATABASE_URL"} <= honoured
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### `make demo`"):]
    section = section[:section.index("\n#", 1)]
    assert [name for name in sorted(honoured) if f"`{name}`" not in section] == []
    for told in ("8000", "8001", "var/sandbox-state.json", "var/demo.sqlite3", "var/qcluster.log", "rm -rf var/"):
        assert told in section
