#!/usr/bin/env bash
# The benchmark table of docs/performance.md, in one command: sets up RabbitMQ and PostgreSQL as the tests do
# (scripts/test.sh --setup-only), then runs every scenario three times and writes results/<time>/report.md,
# report.json and latency-throughput.png. Arguments go to the program: --runs N, --batch-items N, --smoke, a scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${EDGESIGNER_TEST_RABBITMQ:-}" ]; then
  bash scripts/test.sh --setup-only
  export EDGESIGNER_TEST_RABBITMQ="amqp://guest:guest@127.0.0.1:5672/"
  export EDGESIGNER_TEST_RABBITMQ_MANAGEMENT="http://127.0.0.1:15672/"
  export EDGESIGNER_TEST_POSTGRES="Host=127.0.0.1;Port=5432;Username=edgesigner;Password=edgesigner;Database=postgres;SSL Mode=Disable"
fi
exec dotnet run -c Release --project tests/Benchmarks -- "$@"
