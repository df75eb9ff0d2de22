"""scripts/demo.sh (`make demo`) stops what it starts: its cleanup kills the pids it recorded with `$!`."""
import re
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "scripts" / "demo.sh"
BACKGROUND_JOB = re.compile(r"(?<!&)&\s*$")


def test_every_background_job_of_the_demo_is_the_process_its_cleanup_kills():
    """`a && b &` backgrounds a subshell: `$!` is that shell, and SIGTERM to the demo left `b` running."""
    jobs = [line.strip() for line in DEMO.read_text().splitlines() if BACKGROUND_JOB.search(line)]
    assert len(jobs) == 3  # the sandbox, the qcluster, the panel
    compound = [job for job in jobs if not job.startswith('"$PYTHON" ') or re.search(r"&&|\|\||;|\|", job[:-1])]
    assert compound == []
