# Developers and CI use the same targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/teleconsult migrate
	$(BIN)/teleconsult seed-demo
	$(BIN)/teleconsult serve

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

# Two workers for what waits on browsers, fsync and the network; then, alone, the tests that
# send real audio and video and judge it in time (marked media), so that no other test takes
# their CPU. Exit status 5 is "no test selected" (a PYTEST_ARGS naming other tests).
TEST_WORKERS ?= 2

test: lint
	PYTHONASYNCIODEBUG=1 $(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal -m "not media" $(PYTEST_ARGS) || [ $$? -eq 5 ]
	PYTHONASYNCIODEBUG=1 $(BIN)/pytest -m media $(PYTEST_ARGS) || [ $$? -eq 5 ]

bench: $(STAMP)
	$(BIN)/python bench/booking.py
	$(BIN)/python bench/passport.py
	$(BIN)/python bench/passport.py --postgres
	$(BIN)/python bench/calls.py
	$(BIN)/python bench/stats.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/coding.py --http

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
