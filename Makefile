# tidings: common tasks. `make` or `make help` lists them.
.DEFAULT_GOAL := help
PG_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

.PHONY: run
run: ## Start tidings on embedded SQLite (./data/tidings.db)
	cargo run --release -- serve

.PHONY: test
test: ## Run the whole test suite (PostgreSQL tests use TIDINGS_TEST_DATABASE_URL)
	TIDINGS_TEST_DATABASE_URL=$${TIDINGS_TEST_DATABASE_URL:-$(PG_URL)} cargo test

.PHONY: test-pg
test-pg: ## Run the tests against the local PostgreSQL (starts it if needed)
	@pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -n 1) main start
	TIDINGS_TEST_DATABASE_URL=$(PG_URL) cargo test

.PHONY: lint
lint: ## cargo fmt --check and clippy with warnings as errors
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings

.PHONY: bench
bench: ## Run the benchmarks of BENCHMARKS.md (minutes; PostgreSQL at PG_URL)
	cargo bench -p tidings-core --bench next_after
	cargo build --release -p tidings -p tidings-bench
	./target/release/tidings-bench fire --backend sqlite --concurrency 10
	./target/release/tidings-bench fire --backend sqlite --concurrency 500
	./target/release/tidings-bench fire --backend postgres --postgres-url $(PG_URL) --concurrency 10
	./target/release/tidings-bench fire --backend postgres --postgres-url $(PG_URL) --concurrency 500
	./target/release/tidings-bench drain --backend sqlite --runs 50000 --concurrency 10
	./target/release/tidings-bench drain --backend postgres --postgres-url $(PG_URL) --runs 50000 --concurrency 10
	PG_URL=$(PG_URL) crates/tidings-bench/scripts/cluster.sh 3
	./target/release/tidings-bench api --backend sqlite
	./target/release/tidings-bench api --backend postgres --postgres-url $(PG_URL)
	./target/release/tidings-bench airtable --backend sqlite
	./target/release/tidings-bench airtable --backend sqlite --no-filter --records 5000
	./target/release/tidings-bench airtable --backend postgres --postgres-url $(PG_URL)
	./target/release/tidings-bench airtable --backend postgres --postgres-url $(PG_URL) --no-filter --records 5000
	./target/release/tidings-bench csv-import --backend sqlite --rows 100000
	./target/release/tidings-bench csv-import --backend postgres --postgres-url $(PG_URL) --rows 100000
	PG_ADMIN_URL=$(dir $(PG_URL))postgres crates/tidings-bench/scripts/feedback_vs_fastapi.sh
	bench/memory.sh 10000 10

.PHONY: bench-apscheduler
bench-apscheduler: ## The same bursts and memory on APScheduler 3 (installs it into bench/.venv)
	bench/apscheduler.sh 10000

.PHONY: db-reset
db-reset: ## Delete the local SQLite database (./data); the next start recreates it
	rm -rf ./data

.PHONY: ci
ci: ## What CI runs on a clean clone
	.ci/run
