# The kit's Makefile: the student's targets (lab.mk, which the student bundle ships as its
# Makefile) plus the maintainers' and the instructor's. Everything the tests need is in `dev`.
EXTRAS := dev
include lab.mk

.PHONY: test lint format fuzz bench release autograder

lint: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

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
