# Every target bootstraps what it needs: a fresh clone needs nothing installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup lab serve test lint format check watch strip fuzz bench release autograder clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (step-up lab)" >/dev/null
	@# As root the grader confines submissions with Debian's bubblewrap (docs/instructors.md).
	@if [ "$$(id -u)" = 0 ] && ! command -v bwrap >/dev/null && command -v apt-get >/dev/null; then \
		echo "Installing bubblewrap, which confines graded submissions"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null) \
			|| echo "Could not install bubblewrap: as root, stepup grade will refuse to run submissions"; \
	fi
	touch $(STAMP)

setup: $(STAMP) ## venv with the kit (editable) and everything the tests need

lab: setup ## JupyterLab at the kit's root (exercises/ too), notebook 00 open, stepup on PATH
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root) \
		--ServerApp.root_dir="$(CURDIR)" notebooks/00_start_here.ipynb

serve: setup ## the reference app on http://localhost:8000 with demo accounts
	STEPUP_DEV_MODE=1 $(BIN)/stepup serve --port 8000

check: setup ## check your exercises
	$(BIN)/stepup check

watch: setup ## check an exercise again every time you save it (rustlings-style)
	$(BIN)/stepup watch


strip: setup ## remove outputs and metadata from the notebooks (before committing)
	$(BIN)/python -m course_kit.notebook --strip notebooks/*.ipynb

lint: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint ## the whole suite
	$(BIN)/pytest

fuzz: setup ## a longer OpenAPI fuzz run than the one inside `make test`
	STEPUP_FUZZ_EXAMPLES=500 $(BIN)/pytest tests/robustness/test_fuzz_openapi.py

bench: setup ## print the benchmark table (never part of `make test`)
	$(BIN)/python -m bench

release: setup ## the student bundle (no solutions, no hidden tests), checked
	$(BIN)/stepup teach release -o dist/student

autograder: setup ## the Gradescope autograder zip
	$(BIN)/stepup teach export gradescope -o dist/autograder.zip

clean:
	rm -rf $(VENV) .data .pytest_cache dist
