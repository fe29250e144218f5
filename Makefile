# The README's two commands are `make run` and `make test`; the rest are for developers.
.PHONY: run test stop status install check audit unit bench images eval-anomalies eval-anomaly-seeds chaos soak

run:        ## the whole pipeline on the simulator feed, with its own Kafka and TimescaleDB
	bash scripts/run.sh

test:       ## every test tier against a real broker and database the suite starts itself
	bash scripts/test.sh

stop:       ## stop whatever a run left behind (pid files under .tickwire/)
	python3 -m uv run --frozen tickwire stop

status:     ## what runs: processes, service heartbeats, feed freshness (exit 3: nothing runs)
	python3 -m uv run --frozen tickwire status

install:    ## uv, the Python environment, the Kafka jars, PostgreSQL + TimescaleDB
	bash scripts/bootstrap.sh

images:     ## every container image (services, test runner, Kafka, TimescaleDB) with podman or docker
	bash scripts/images.sh

unit:       ## unit tests only: no services needed
	python3 -m uv run --frozen pytest -m "not integration and not e2e and not images and not compose"

check:      ## lint, strict typing, schema compatibility with the previous commit, vulnerability audit
	python3 -m uv run --frozen ruff check .
	python3 -m uv run --frozen mypy
	python3 -m uv run --frozen python -m tickwire_core.schema_compat HEAD~1
	$(MAKE) --no-print-directory audit

# Accepted advisories: pyproject.toml [tool.tickwire.audit.ignore], each with its reason.
# AUDIT_FLAGS=--require-all also fails on packages that could not be audited (scripts/audit.py says why).
audit:      ## every package in uv.lock against PyPI's advisories (pip-audit, else PyPI's project JSON)
	@mkdir -p .tickwire
	python3 -m uv export --frozen --no-hashes --all-packages --all-groups --no-emit-workspace \
		--format requirements-txt --quiet -o .tickwire/lock-requirements.txt
	python3 -m uv run --frozen python scripts/audit.py .tickwire/lock-requirements.txt $(AUDIT_FLAGS)

# SHORT=1: the version `make test` runs (100 s at 250 ticks/s, every kind of fault at least once;
# 6 to 10 minutes in all on a busy 2-core machine, docs/reliability.md); SEED=n replays run n.
chaos:      ## 10 minutes of faults under load on a stack of its own (kill -9 of every service and the broker, PostgreSQL stopped, a consumer paused, one of two normalize instances slowed, a burst of 10x the rate, hostile raw records); ends with a table: nothing lost or duplicated, every hostile record dead-lettered, stalls, recoveries, peak memory
	python3 -m uv run --frozen python benchmarks/chaos.py $(if $(SHORT),--short) $(if $(SEED),--seed $(SEED))

soak:       ## an hour at 5,000 ticks/s on a stack of its own, no faults: peak RSS per service and tick -> queryable every 10 s, as a CSV and a PNG under .tickwire/soak/ (MINUTES=n for a shorter run)
	python3 -m uv run --frozen --group bench python benchmarks/chaos.py --soak $(if $(MINUTES),--duration $$(($(MINUTES) * 60))) $(if $(SEED),--seed $(SEED))

eval-anomalies: ## precision and recall of the anomaly rules on the simulator with labelled faults (no services)
	python3 -m uv run --frozen python benchmarks/anomaly_eval.py
	python3 -m uv run --frozen python benchmarks/first_minute.py

eval-anomaly-seeds: ## the return rule's clean rates and 8-sigma recall across seeds (SEEDS=1-10)
	python3 -m uv run --frozen python benchmarks/anomaly_seeds.py --seeds $(or $(SEEDS),1-10)

bench: export TICKWIRE_BENCH_RESULTS := $(CURDIR)/.tickwire/bench-results
bench:      ## throughput and latency on the local stack (end to end for 10 minutes with each service's memory, tick -> queryable, backfill, normalize, signals, sink, the API, the lake export), bytes per tick compressed, the broker's and database's own ceilings; ends with one summary table
	rm -rf "$$TICKWIRE_BENCH_RESULTS"
	python3 -m uv run --frozen python benchmarks/broker_ceiling.py
	python3 -m uv run --frozen python benchmarks/database_ceiling.py
	python3 -m uv run --frozen python benchmarks/e2e_sustained.py
	python3 -m uv run --frozen python benchmarks/tick_latency.py
	python3 -m uv run --frozen python benchmarks/backfill_throughput.py
	python3 -m uv run --frozen python benchmarks/normalize_throughput.py
	python3 -m uv run --frozen python benchmarks/signals_throughput.py
	python3 -m uv run --frozen python benchmarks/sink_throughput.py
	python3 -m uv run --frozen python benchmarks/api_latency.py
	python3 -m uv run --frozen python benchmarks/compression_size.py
	python3 -m uv run --frozen python benchmarks/lake_export.py
	python3 -m uv run --frozen python benchmarks/summary.py "$$TICKWIRE_BENCH_RESULTS"
