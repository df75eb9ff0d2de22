"""The production image holds production code only: no tests, no test settings, no benchmarks, no sandbox (the
Hummingbot API emulator is development tooling), checked from the build context and the Dockerfile without a Docker
engine (scripts/image_contents.py); nothing the image runs imports the sandbox; the code belongs to root, not to the
user the processes run as; and the build installs the hash-locked requirements."""
import importlib.util
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
DEVELOPMENT_ONLY = ("tests/", "bridge/test_settings.py", "bench/", "sandbox/", "docs/screenshots/", ".git/", ".venv/")


def _image_contents():
    spec = importlib.util.spec_from_file_location("image_contents", ROOT / "scripts" / "image_contents.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


image_contents = _image_contents()


def test_build_context_leaves_out_tests_test_settings_benchmarks_the_sandbox_and_screenshots():
    context = image_contents.build_context()
    assert "bots/models.py" in context
    assert [path for path in context if path.startswith(DEVELOPMENT_ONLY)] == []


def test_local_state_and_secrets_in_a_checkout_never_enter_the_build_context(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".dockerignore").write_text((ROOT / ".dockerignore").read_text())
    local = [".env", "db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm", "var/qcluster.log", "staticfiles/admin.css",
             "bots/__pycache__/models.cpython-311.pyc", ".pytest_cache/README.md", ".coverage", "htmlcov/index.html",
             "sandbox/state.py", "tests/test_x.py", "bridge/test_settings.py", "bench/ingest.py",
             "docs/screenshots/panel.png", ".venv-lock/bin/pip-compile"]
    for path in [*local, "bots/models.py"]:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    assert image_contents.build_context(tmp_path) == [".dockerignore", "bots/models.py"]


def test_production_image_holds_no_tests_no_test_settings_no_sandbox_no_benchmarks():
    image = image_contents.image_files()
    assert [path for path in image if path.removeprefix("/app/").startswith(DEVELOPMENT_ONLY)] == []
    assert "/app/bridge/settings.py" in image and "/app/bridge/test_settings.py" not in image


def test_the_code_belongs_to_root_and_the_processes_run_as_another_user():
    """The web and worker processes cannot rewrite what they run: code, settings, templates, static files."""
    final = image_contents.final_stage()
    users = [arguments for keyword, *arguments in final if keyword.upper() == "USER"]
    assert users and users[-1][0] not in ("root", "0")
    # COPY gives root what it copies, unless --chown names someone else or --chmod opens it.
    copies = [" ".join(words) for words in final if words[0].upper() == "COPY"]
    assert [copy for copy in copies if re.search(r"--chown=(?!(root|0)[:\s])|--chmod", copy)] == []
    assert "COPY --from=build /app /app" in copies
    # RUN output is not replayed: a RUN of the final stage must not hand the code over either.
    runs = [" ".join(words) for words in final if words[0].upper() == "RUN"]
    assert [run for run in runs if re.search(r"\bch(own|mod)\b", run)] == []


def test_production_image_holds_what_its_processes_run():
    image = image_contents.image_files()
    # manage.py runs migrate/qcluster, the HEALTHCHECK runs scripts/healthcheck.py, strategies.py uploads
    # the controller's source to Hummingbot, templates/ overrides the admin's.
    assert {"/app/manage.py", "/app/bridge/settings.py", "/app/bridge/wsgi.py", "/app/bots/models.py",
            "/app/bots/controllers/volume_taker.py", "/app/scripts/healthcheck.py",
            "/app/templates/admin/base_site.html"} <= set(image)
    assert image["/app/bots/models.py"] == "bots/models.py"


def test_image_listing_script_prints_every_file_of_the_image():
    printed = subprocess.run([sys.executable, str(ROOT / "scripts" / "image_contents.py")], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
    listed = [line.strip() for line in printed.splitlines() if line.startswith("  /")]
    assert listed == list(image_contents.image_files())


def test_dockerfile_copy_of_a_path_the_context_lacks_is_an_error_not_an_empty_copy(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "app.py").write_text("")
    (tmp_path / ".dockerignore").write_text("tests\n")
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\nWORKDIR /app\nCOPY app.py tests ./\n")
    try:
        image_contents.image_files(tmp_path)
    except ValueError as exc:
        assert "COPY tests" in str(exc)
    else:
        raise AssertionError("a COPY of an ignored path passed")


BLOCK_SANDBOX = textwrap.dedent("""
    import importlib, pkgutil, sys

    class NoSandbox:
        def find_spec(self, name, path=None, target=None):
            if name == "sandbox" or name.startswith("sandbox."):
                raise ImportError(f"production code imported the development sandbox: {name}")

    sys.meta_path.insert(0, NoSandbox())
    import django
    django.setup()
    failures = []
    for package in ("bridge", "bots"):
        for module in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
            if module.name.startswith("bots.controllers."):  # runs inside Hummingbot, uploaded as text
                continue
            try:
                importlib.import_module(module.name)
            except Exception as exc:
                failures.append(f"{module.name}: {exc!r}")
    print("\\n".join(failures))
    sys.exit(1 if failures else 0)
""")


def test_every_production_module_imports_with_the_sandbox_unimportable():
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTHON"))}
    env["DJANGO_SETTINGS_MODULE"] = "bridge.test_settings"
    result = subprocess.run([sys.executable, "-c", BLOCK_SANDBOX], cwd=ROOT, env=env, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_both_stages_build_on_one_python_base_named_by_its_debian_release():
    """The slim tag alone moves to each new Debian release; a digest (`@sha256:...`) may follow the tag."""
    bases = [arguments[0] for keyword, *arguments in image_contents.instructions() if keyword.upper() == "FROM"]
    assert len(bases) == 2 and len(set(bases)) == 1
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim-[a-z]+(@sha256:[0-9a-f]{64})?", bases[0]), bases[0]


PIN = re.compile(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==(\S+)", re.M)
LOCKED = re.compile(r"^([A-Za-z0-9._-]+)==(\S+)((?:[ \t]*\\\n[ \t]+--hash=sha256:[0-9a-f]{64})+)", re.M)


def test_the_image_installs_the_hash_locked_requirements_and_nothing_unlocked():
    runs = [" ".join(words) for words in image_contents.instructions() if words[0].upper() == "RUN"]
    installs = [run for run in runs if "pip install" in run]
    assert len(installs) == 1 and "--require-hashes" in installs[0].split()
    assert "-r requirements.lock" in installs[0]


def test_the_lock_pins_what_requirements_txt_pins_every_file_by_hash():
    """requirements.txt stays what `make test` installs; requirements.lock (`make lock`) is it resolved, with
    the sha256 of every file PyPI holds for each release (pip-compile --generate-hashes: the wheels of every
    platform, x86_64 and aarch64 alike, and the sdist)."""
    lock_text = (ROOT / "requirements.lock").read_text()
    locked = {canonicalize_name(name): version for name, version, _ in LOCKED.findall(lock_text)}
    pinned = {canonicalize_name(name): version for name, version in PIN.findall((ROOT / "requirements.txt").read_text())}
    assert {name: locked.get(name) for name in pinned} == pinned, "requirements.txt changed: run `make lock`"
    # Every requirement line of the lock carries its hashes (pip refuses the lock otherwise).
    assert len(PIN.findall(lock_text)) == len(locked)
    assert "#    make lock\n" in lock_text  # pip-compile's header names the command that rewrites it
    recipe = re.search(r"^lock:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert "--generate-hashes" in recipe and "--output-file requirements.lock requirements.txt" in recipe
