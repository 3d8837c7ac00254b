# gridhub: two commands. `make run` brings the whole system up; `make test` runs the whole suite.
# Both install what they need first (scripts/bootstrap.sh is idempotent and quick when done).
SHELL := /bin/bash
VENV := .local/venv
PY := $(VENV)/bin/python
# the quick benchmarks, stopped if a hung one would hold CI (they take under a minute)
BENCH_QUICK := timeout --kill-after=30 300 $(PY) -m bench --quick

.PHONY: run test test-faults bootstrap infra stop status lint bench bench-quick clean-data

run: bootstrap infra
	@$(VENV)/bin/gridhub topics create
	@scripts/services.sh up
	@echo
	@scripts/kafka.sh status; scripts/redis.sh status
	@scripts/services.sh status
	@echo
	@echo "City board (demo operator token, valid 24 h):"
	@echo "  http://127.0.0.1:$${GRIDHUB_WALLBOARD_PORT:-8083}/?token=$$($(VENV)/bin/gridhub token issue --user demo-operator --role city_operator --ttl 86400)"
	@echo "Township board: add &hub=township:T01 to that URL. API docs: :8081/docs (intake), :8082/docs (dispatch)."
	@echo; echo "Stop everything with: make stop"

# then the quick benchmarks (< 1 minute): each must still run; a FAILED one fails the target
test: bootstrap infra
	@set -o pipefail; $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)
	@$(BENCH_QUICK)

# the fault and hostile-input tests alone (`make test` runs them too, last)
test-faults: bootstrap infra
	@set -o pipefail; $(PY) -m pytest -q -p no:cacheprovider tests/reliability $(PYTEST_ARGS)

bootstrap:
	@scripts/bootstrap.sh

infra:
	@scripts/kafka.sh up
	@scripts/redis.sh up

stop:
	@scripts/services.sh down
	@scripts/kafka.sh down
	@scripts/redis.sh down

status:
	@scripts/kafka.sh status || true; scripts/redis.sh status || true; scripts/services.sh status

lint: bootstrap
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy gridhub connectors streams dispatch wallboard

# every benchmark (< 10 minutes); the table also goes to bench/results/latest.json
bench: bootstrap infra
	$(PY) -m bench

bench-quick: bootstrap infra
	$(BENCH_QUICK)

clean-data: stop
	rm -rf .local/kafka/data .local/redis .local/run
