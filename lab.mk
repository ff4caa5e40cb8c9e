# The student's targets: `make lab`, `make check`, `make watch`, `make serve`. The kit's own
# Makefile includes this file; the student bundle ships it as its Makefile.
# Every target bootstraps what it needs: a fresh copy needs nothing installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXTRAS ?= lab

.PHONY: setup lab serve check watch strip clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[$(EXTRAS)]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (step-up lab)" >/dev/null
	@# As root the grader confines submissions with Debian's bubblewrap (docs/instructors.md).
	@if [ "$$(id -u)" = 0 ] && ! command -v bwrap >/dev/null && command -v apt-get >/dev/null; then \
		echo "Installing bubblewrap, which confines graded submissions"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null) \
			|| echo "Could not install bubblewrap: as root, grading will refuse to run submissions"; \
	fi
	touch $(STAMP)

setup: $(STAMP) ## the .venv with the kit (editable) and JupyterLab

# LAB_ARGS passes options on to JupyterLab, e.g. make lab LAB_ARGS=--port=8899
LAB_ARGS ?=
# .jupyter/ holds the kit's Jupyter settings (the Terminal keeps stepup on PATH, no news
# prompt, quiet kernels); on JUPYTER_CONFIG_PATH, so the student's own ~/.jupyter comes first.
lab: setup ## JupyterLab at the kit's root (exercises/ too), notebook 00 open, stepup on PATH
	PATH="$(CURDIR)/$(BIN):$$PATH" \
	JUPYTER_CONFIG_PATH="$(CURDIR)/.jupyter$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
	$(BIN)/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root) \
		--ServerApp.root_dir="$(CURDIR)" $(LAB_ARGS) notebooks/00_start_here.ipynb

serve: setup ## the reference app on http://localhost:8000 with demo accounts
	STEPUP_DEV_MODE=1 $(BIN)/stepup serve --port 8000

check: setup ## check your exercises
	$(BIN)/stepup check

watch: setup ## check an exercise again every time you save it (rustlings-style)
	$(BIN)/stepup watch

strip: setup ## remove outputs and metadata from the notebooks (before committing)
	$(BIN)/python -m course_kit.notebook --strip notebooks/*.ipynb

clean:
	rm -rf $(VENV) .data .pytest_cache dist
