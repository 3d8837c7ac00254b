# gridhub: two commands. `make run` brings the whole system up; `make test` runs the whole suite.
# Both install what they need first (scripts/bootstrap.sh is idempotent and quick when done).
SHELL := /bin/bash
VENV := .local/venv
PY := $(VENV)/bin/python

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

test: bootstrap infra
	@set -o pipefail; $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

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

bench: bootstrap infra
	$(PY) -m bench

bench-quick: bootstrap infra
	$(PY) -m bench --quick

clean-data: stop
	rm -rf .local/kafka/data .local/redis .local/run
