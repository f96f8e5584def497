#!/usr/bin/env bash
# EdgeSigner's test command. On a fresh Debian machine (as root) it installs RabbitMQ and PostgreSQL when they are
# missing, starts them, creates the test user, waits until both answer, then runs every test in the solution.
# When EDGESIGNER_TEST_RABBITMQ and EDGESIGNER_TEST_POSTGRES are already set, it uses those servers as they are.
# Where a Docker engine runs, the fixtures can instead start Testcontainers: unset both variables and pass --no-provision.
set -euo pipefail
cd "$(dirname "$0")/.."

provision=1
setup_only=0
for arg in "$@"; do
  case "$arg" in
    --no-provision) provision=0 ;;
    --setup-only) setup_only=1 ;;  # provision and start the servers, run no test (scripts/benchmark.sh uses it)
  esac
done

log() { printf '[test.sh] %s\n' "$*"; }

wait_for() { # description, seconds, command...
  local what=$1 seconds=$2; shift 2
  for _ in $(seq 1 "$seconds"); do
    if "$@" >/dev/null 2>&1; then log "$what is up"; return 0; fi
    sleep 1
  done
  log "ERROR: $what did not answer within ${seconds}s"; return 1
}

# Tools the tests drive: promtool (the alert rules' tests, from Debian's prometheus package) and headless Chromium
# (the status page's test). Installed when missing and we are root; otherwise those tests fail and say what is missing.
tools=()
command -v promtool >/dev/null 2>&1 || tools+=(prometheus)
[ -x /usr/bin/chromium ] || tools+=(chromium)
if [ "${#tools[@]}" -gt 0 ] && [ "$(id -u)" = 0 ]; then
  log "installing ${tools[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${tools[@]}" >/dev/null
fi

if [ "$provision" = 1 ] && [ -z "${EDGESIGNER_TEST_RABBITMQ:-}" ] && [ -z "${EDGESIGNER_TEST_POSTGRES:-}" ]; then
  if [ "$(id -u)" != 0 ]; then
    log "ERROR: provisioning RabbitMQ and PostgreSQL needs root; or set EDGESIGNER_TEST_RABBITMQ and EDGESIGNER_TEST_POSTGRES."
    exit 1
  fi

  missing=()
  command -v rabbitmq-server >/dev/null 2>&1 || missing+=(rabbitmq-server)
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi

  # RabbitMQ, with the management plugin: the fixtures give every test class a virtual host of its own.
  if rabbitmqctl -q status >/dev/null 2>&1; then
    rabbitmq-plugins -q enable rabbitmq_management >/dev/null
  else
    rabbitmq-plugins -q enable --offline rabbitmq_management >/dev/null
    log "starting rabbitmq-server"
    rabbitmq-server -detached
  fi
  wait_for "RabbitMQ" 90 rabbitmqctl -q await_startup
  wait_for "RabbitMQ management API" 60 curl -sf -u guest:guest http://127.0.0.1:15672/api/overview

  # PostgreSQL: the cluster Debian's package made, a login role that may create databases.
  pg_version=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
  if ! pg_lsclusters -h | grep -q "^$pg_version  *main .*online"; then
    log "starting PostgreSQL $pg_version"
    pg_ctlcluster "$pg_version" main start
  fi
  wait_for "PostgreSQL" 60 pg_isready -h 127.0.0.1 -p 5432
  su postgres -c "psql -q -v ON_ERROR_STOP=1" <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'edgesigner') THEN
    CREATE ROLE edgesigner LOGIN CREATEDB PASSWORD 'edgesigner';
  END IF;
END $$;
SQL

  # What earlier runs left behind (their own virtual hosts and databases), so a machine never fills up.
  for vhost in $(rabbitmqctl -q list_vhosts 2>/dev/null | grep '^edgesigner-test-' || true); do
    rabbitmqctl -q delete_vhost "$vhost" >/dev/null 2>&1 || true
  done
  su postgres -c "psql -q -At" <<'SQL' >/dev/null 2>&1 || true
SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', datname) FROM pg_database WHERE datname LIKE 'edgesigner_test_%' \gexec
SQL

  export EDGESIGNER_TEST_RABBITMQ="amqp://guest:guest@127.0.0.1:5672/"
  export EDGESIGNER_TEST_RABBITMQ_MANAGEMENT="http://127.0.0.1:15672/"
  export EDGESIGNER_TEST_POSTGRES="Host=127.0.0.1;Port=5432;Username=edgesigner;Password=edgesigner;Database=postgres;SSL Mode=Disable"
fi

if [ -n "${EDGESIGNER_TEST_RABBITMQ:-}" ]; then log "tests use RabbitMQ and PostgreSQL given by EDGESIGNER_TEST_*"; else log "tests start RabbitMQ and PostgreSQL with Testcontainers"; fi
if [ "$provision" = 1 ] && command -v rabbitmqctl >/dev/null 2>&1; then
  log "RabbitMQ server $(rabbitmqctl -q version 2>/dev/null || echo '?'), PostgreSQL server $(PGPASSWORD=edgesigner psql -h 127.0.0.1 -U edgesigner -d postgres -tAc 'SHOW server_version' 2>/dev/null || echo '?')"
fi

if [ "$setup_only" = 1 ]; then exit 0; fi

# The output a developer needs: progress per test project, each failure with its message and the start of its stack
# trace, and the plain 'N passed, N failed' line. Everything else (build output, every service's log lines) goes to
# the full log, which the summary names.
mkdir -p test-results
full_log=test-results/test.log
set +e
dotnet test EdgeSigner.sln -c Release --logger "console;verbosity=normal" > "$full_log" 2>&1 &
test_pid=$!
tail -n +1 -f --pid="$test_pid" "$full_log" 2>/dev/null | awk '
  /: error [A-Z]+[0-9]+:/ && !seen[$0]++ { print; next }
  /^Test run for / { sub(/^.*\//, ""); sub(/ \(\.NETCoreApp.*$/, ""); printf "[test.sh] started %s\n", $0; fflush(); next }
  /^[[:space:]]+Failed [A-Za-z_]/ { print; failing = 1; lines = 0; fflush(); next }
  failing && /^[[:space:]]+Stack Trace:/ { stack = 1; next }
  failing && stack && /^[[:space:]]+at / { if (++frames <= 3) print; next }
  failing && stack && /^--- End of stack trace/ { next }
  failing && (/^[[:space:]]+(Passed|Failed|Skipped) / || /^[{\[]/ || /Standard Output Messages:/) { failing = 0; stack = 0; frames = 0 }
  failing && lines++ < 25 { print; fflush(); next }
  /Test Run Aborted|The active test run was aborted|Test host process crashed|exited with error/ { print; fflush(); next }
  /^Total tests: / { total = $3 }
  /^[[:space:]]+Passed: / { p = $2 }
  /^[[:space:]]+Failed: / { f = $2 }
  /^ Total time: / { printf "[test.sh] a test project finished: %s tests, %s passed, %s failed, in %s\n", total, p + 0, f + 0, $3 " " $4; fflush(); p = 0; f = 0 }
'
wait "$test_pid"
status=$?
set -e
passed=$(grep -E '^[[:space:]]+Passed:[[:space:]]+[0-9]+$' "$full_log" | awk '{s += $2} END {print s + 0}' || true)
failed=$(grep -E '^[[:space:]]+Failed:[[:space:]]+[0-9]+$' "$full_log" | awk '{s += $2} END {print s + 0}' || true)
# The failures again, at the very end where a truncated CI log still shows them: each test's name and message.
if [ "${failed:-0}" != 0 ]; then
  log "failed tests:"
  awk '/^[[:space:]]+Failed [A-Za-z_]/ {show = 1; n = 0}
       /^[[:space:]]+Stack Trace:/ {show = 0}
       show && n < 25 {print; n++}' "$full_log"
  # Each failed test's own log lines: the warnings and errors of the services its test class started (every line
  # of a service a test started carries the class as test_class), the last 20 of each class.
  for class in $(grep -E '^[[:space:]]+Failed [A-Za-z_]' "$full_log" | sed -E 's/^[[:space:]]+Failed ([^ (]+).*/\1/' | awk -F. '{print $(NF-1)}' | sort -u); do
    lines=$(grep -F "\"test_class\":\"$class\"" "$full_log" | grep -E '"@l":"(Warning|Error|Fatal)"' | tail -n 20 | cut -c1-400 || true)
    if [ -n "$lines" ]; then
      log "the last warnings and errors of the services $class started:"
      printf '%s\n' "$lines"
    fi
  done
fi
if [ "$status" != 0 ] && [ "${failed:-0}" = 0 ]; then
  log "dotnet test failed without a failed test (a build error or a crashed test host); the end of $full_log:"
  grep -v -E '^[{\[]' "$full_log" | tail -n 40
fi
log "the whole output, with every service's log lines: $full_log"
echo "$passed passed, $failed failed"
if [ "$status" = 0 ] && [ "$passed" = 0 ]; then log "ERROR: no test ran"; exit 1; fi
exit "$status"
