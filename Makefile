# Two entry points for a fresh machine (see README.md):
#   make example   grade the bundled example batch (local backend)
#   make test      run the whole test suite (slow and Docker tests included; as root it
#                  installs and starts a Docker engine and builds the sandbox image, and
#                  runs the local sandbox's suite again as an unprivileged user)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The stamp's name changes with pyproject.toml, so a dependency change reinstalls.
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)

.PHONY: example test test-fast venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[cpu,instructor,test]'
	rm -f $(VENV)/.installed-*
	touch $@

example: $(STAMP)
	$(BIN)/autograder grade 01_tf_basics examples/01_tf_basics --backend local --out autograder-out

test: $(STAMP)
	bash docker/ensure-engine.sh
	bash tests/ensure-chromium.sh
	$(BIN)/python -m pytest -ra
	bash tests/as-user.sh

test-fast: $(STAMP)
	$(BIN)/python -m pytest -ra -m "not slow and not docker"
