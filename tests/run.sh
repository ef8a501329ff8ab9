#!/usr/bin/env bash
# Runs every test of the solution. Installs what the tests need when it is missing (redis-server, postgresql),
# then prints one closing line: "N passed, N failed, N skipped". Exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."

log() { printf '[tests] %s\n' "$*" >&2; }

ensure_package() { # ensure_package BINARY DEBIAN_PACKAGE
  if command -v "$1" >/dev/null 2>&1; then return 0; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing $2"
    (apt-get update -qq || true) >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1 || log "could not install $2"
  else
    log "$1 is missing and cannot be installed here (needs root and apt-get); tests that need it will say so"
  fi
}

# Real Redis for the rate-limit and cache tests; the test fixtures start their own servers on free loopback ports.
ensure_package redis-server redis-server
# Real PostgreSQL for the usage-ledger tests: the server binaries. Each test starts its own throw-away cluster
# (initdb in a temporary folder, as the postgres user when run as root) on a free port; the tests never use
# the package's own cluster, which Debian may start on 5432.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  ensure_package __postgresql_server_binaries__ postgresql
fi

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

dotnet build AiGateway.sln -c Release -nologo -v q 2>&1 | tail -n 3
build=${PIPESTATUS[0]}
if [ "$build" -ne 0 ]; then
  log "build failed"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

dotnet test AiGateway.sln -c Release --no-build -nologo \
  --blame-hang-timeout 5m \
  --results-directory "$results" --logger "trx;LogFilePrefix=tests" \
  --logger "console;verbosity=minimal" 2>&1 | tee "$results/out.txt" | grep -vE '^\s*$|^(info|warn|fail|dbug): |^      ' || true
status=${PIPESTATUS[0]}

# Sum the counters of every test assembly's TRX report.
passed=0 failed=0 skipped=0 reports=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { printf '%s' "$counters" | sed -nE "s/.* $1=\"([0-9]+)\".*/\1/p"; }
  total=$(get total); executed=$(get executed); p=$(get passed); f=$(get failed)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  skipped=$((skipped + ${total:-0} - ${executed:-0}))
  reports=$((reports + 1))
done

expected=$(grep -l '<IsTestProject>true</IsTestProject>' tests/*/*.csproj | wc -l)
if [ "$reports" -lt "$expected" ]; then
  log "only $reports of $expected test assemblies reported results"
  failed=$((failed + expected - reports))
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # A test host crashed or hung after reporting: count it as a failure, never as green.
  failed=1
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
