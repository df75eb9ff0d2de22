# Two commands for a fresh machine: `make demo` (the panel against the sandbox) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install migrate sandbox bench clean lock

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	bash scripts/demo.sh

test: $(STAMP)
	$(BIN)/pytest

sandbox: $(STAMP)
	$(BIN)/python -m sandbox --port 8001

bench: $(STAMP)
	for script in bench/[a-z]*.py; do $(BIN)/python $$script || exit 1; done

# requirements.txt resolved with the sha256 of every file PyPI holds for each release (all platforms' wheels and
# the sdists): the Docker image installs it with --require-hashes. Run it after changing requirements.txt, on Linux
# with Python 3.11 like the image's: pip-compile keeps the dependencies whose markers match the interpreter it runs
# on. pip-tools lives in its own virtualenv, out of the one `make test` uses.
lock:
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet pip-tools==7.7.0
	CUSTOM_COMPILE_COMMAND="make lock" .venv-lock/bin/pip-compile --quiet --generate-hashes --allow-unsafe \
		--strip-extras --no-emit-index-url --no-emit-find-links --output-file requirements.lock requirements.txt

clean:
	rm -rf $(VENV) .venv-lock .pytest_cache .coverage htmlcov staticfiles
