# Two entry points for a fresh machine (see README.md):
#   make example   grade the bundled example batch (local backend)
#   make test      lint, the documentation site (mkdocs build --strict), then the whole test
#                  suite, printing its ten slowest tests (slow and Docker tests included; as root
#                  it installs and starts a Docker engine and builds the sandbox image, and
#                  runs the local sandbox's suite again as an unprivileged user; the service's tests
#                  start a PostgreSQL cluster of their own: tests/ensure-postgres.sh installs the server)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The stamp's name changes with the pins, so a dependency change reinstalls.
PINS   := pyproject.toml docker/requirements-tensorflow.txt $(wildcard requirements/*.txt)
STAMP  := $(VENV)/.installed-$(shell cat $(PINS) | sha256sum | cut -c1-12)

.PHONY: docs example lint test test-fast venv

venv: $(STAMP)

$(STAMP): $(PINS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[cpu,instructor,test,cluster,server]'
	rm -f $(VENV)/.installed-*
	touch $@

example: $(STAMP)
	$(BIN)/autograder grade 01_tf_basics examples/01_tf_basics --backend local --out autograder-out

lint: $(STAMP)
	$(BIN)/ruff check .

# The user documentation (docs/, mkdocs.yml) builds with no warning: broken links and anchors fail.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# pytest's 5 ("no tests collected") is never expected, but is no failure of the code either.
# --durations=10 prints the ten slowest tests in CI's log, so their growth is seen. The tests run on
# two processes (pyproject's addopts); those marked serial (they measure time, or restart the
# Docker engine) run after them, alone.
test: lint docs
	bash docker/ensure-engine.sh
	bash tests/ensure-chromium.sh
	bash tests/ensure-postgres.sh
	$(BIN)/python -m pytest -ra --durations=10 -m "not serial" || [ $$? -eq 5 ]
	$(BIN)/python -m pytest -ra --durations=5 -n 0 -m serial || [ $$? -eq 5 ]
	bash tests/as-user.sh

test-fast: $(STAMP)
	$(BIN)/python -m pytest -ra -m "not slow and not docker" || [ $$? -eq 5 ]
