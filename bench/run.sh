#!/usr/bin/env bash
# AiGateway benchmark: direct / plain YARP / nginx / AiGateway / Portkey, side by side, one command.
# Usage: bench/run.sh [--quick] [--rounds N] [--duration S] [--targets direct,yarp,nginx,gateway,gateway-cache,portkey]
#                     [--warmup S] [--warmup-dotnet S] [--warmup-max S] [--connections N] [--rate R] [--stream-rate R] [--chunks N]
#                     [--hold-streams N] [--hold-chunks N] [--hold-delay-ms MS] [--base-port P]
#                     [--layout shared|split] [--no-pin] [--no-install] [--gateway-dir DIR] [--output FILE] [--max-minutes M] [--strict]
# Everything binds 127.0.0.1, every step is bounded in time, every process started is stopped by PID.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$BENCH_DIR")
WORK=$BENCH_DIR/.work
RESULTS=$BENCH_DIR/results

QUICK=0
ROUNDS=3
DURATION=10
WARMUP=8
WARMUP_MAX=120
WARMUP_DOTNET=60
TARGETS=direct,yarp,nginx,gateway,gateway-cache,portkey
CONNECTIONS=64
RATE=200
STREAM_RATE=100
CHUNKS=20
HOLD_STREAMS=5000
HOLD_CHUNKS=40
HOLD_DELAY_MS=1000
BASE_PORT=18200
PIN=1
LAYOUT=shared
INSTALL=1
GATEWAY_DIR=$REPO_DIR/src/AiGateway
OUTPUT=
MAX_MINUTES=45
STRICT=0

usage() { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; }

args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  if [[ ${args[i]} == --quick ]]; then
    QUICK=1 ROUNDS=1 DURATION=2 WARMUP=1 WARMUP_MAX=1 WARMUP_DOTNET=1 RATE=200 STREAM_RATE=50 HOLD_STREAMS=200 HOLD_CHUNKS=4 HOLD_DELAY_MS=500 MAX_MINUTES=15
  fi
done
while (($#)); do
  case $1 in
    --quick) ;;
    --rounds) ROUNDS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --warmup-max) WARMUP_MAX=$2; shift ;;
    --warmup-dotnet) WARMUP_DOTNET=$2; shift ;;
    --targets) TARGETS=$2; shift ;;
    --connections) CONNECTIONS=$2; shift ;;
    --rate) RATE=$2; shift ;;
    --stream-rate) STREAM_RATE=$2; shift ;;
    --chunks) CHUNKS=$2; shift ;;
    --hold-streams) HOLD_STREAMS=$2; shift ;;
    --hold-chunks) HOLD_CHUNKS=$2; shift ;;
    --hold-delay-ms) HOLD_DELAY_MS=$2; shift ;;
    --base-port) BASE_PORT=$2; shift ;;
    --no-pin) PIN=0 ;;
    --layout) LAYOUT=$2; shift ;;
    --no-install) INSTALL=0 ;;
    --gateway-dir) GATEWAY_DIR=$2; shift ;;
    --output) OUTPUT=$2; shift ;;
    --max-minutes) MAX_MINUTES=$2; shift ;;
    --strict) STRICT=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
[[ -n $OUTPUT ]] || { ((QUICK)) && OUTPUT=$RESULTS/quick.md || OUTPUT=$RESULTS/latest.md; }
TSV=${OUTPUT%.md}.tsv

mkdir -p "$WORK/logs" "$RESULTS"
rm -f "$WORK"/logs/*.log
CLK_TCK=$(getconf CLK_TCK)
# shared: proxy and fake upstream on core 0, drivers on core 1 (the default).
# split: the proxy alone on core 0, fake upstream and drivers on core 1 (proxy-bound ratios).
if ((PIN)) && (($(nproc) >= 2)); then
  SERVER_CPUS=0 DRIVER_CPUS=1 NGINX_WORKERS=1
  [[ $LAYOUT == split ]] && UPSTREAM_CPUS=1 || UPSTREAM_CPUS=0
else
  PIN=0 SERVER_CPUS=0-$(($(nproc) - 1)) DRIVER_CPUS=$SERVER_CPUS UPSTREAM_CPUS=$SERVER_CPUS NGINX_WORKERS=auto
fi
[[ $LAYOUT == shared || $LAYOUT == split ]] || { echo "run.sh: --layout is shared or split" >&2; exit 2; }

log() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
note() { log "$*"; printf '#note\t%s\n' "$*" >>"$TSV"; }
meta() { printf '#meta\t%s\t%s\n' "$1" "$2" >>"$TSV"; }
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$TSV"; }

# ---------------------------------------------------------------- processes, stopped by PID on exit
SERVER_PIDS=()
DRIVER_PID=
WATCHDOG_PID=
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  [[ -n $DRIVER_PID ]] && kill -TERM "$DRIVER_PID" 2>/dev/null || true
  for pid in "${SERVER_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${SERVER_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [[ -n $WATCHDOG_PID ]]; then
    [[ -f $WORK/watchdog.pid ]] && kill -TERM "$(cat "$WORK/watchdog.pid")" 2>/dev/null || true
    kill -TERM "$WATCHDOG_PID" 2>/dev/null || true
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# Whole run bounded: the watchdog's sleep PID is kept so that cleanup can stop it too.
(
  sleep $((MAX_MINUTES * 60)) &
  echo $! >"$WORK/watchdog.pid"
  wait $! && echo "[bench] run exceeded --max-minutes $MAX_MINUTES, stopping" >&2 && kill -TERM $$
) &
WATCHDOG_PID=$!

# drive OUT SECONDS command... : runs a load driver pinned to the driver core, output to OUT, bounded by
# SECONDS. It runs in the background of this shell so that the traps can stop it by PID.
drive() {
  local out=$1 seconds=$2
  shift 2
  timeout -k 5 "$seconds" taskset -c "$DRIVER_CPUS" "$@" >"$out" 2>>"$WORK/logs/drivers.log" &
  DRIVER_PID=$!
  local status=0
  wait "$DRIVER_PID" || status=$?
  DRIVER_PID=
  return "$status"
}

# start_server NAME LOG command... ; env is inherited from the caller. Sets LAST_PID.
start_server() {
  local name=$1 logfile=$2
  shift 2
  (exec taskset -c "${PIN_TO:-$SERVER_CPUS}" "$@") >"$logfile" 2>&1 &
  LAST_PID=$!
  SERVER_PIDS+=("$LAST_PID")
  log "$name started, pid $LAST_PID"
}

stop_server() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

port_free() { ! ss -ltnH "sport = :$1" | grep -q .; }

# PID and its descendants (nginx workers).
tree_pids() {
  local pid=$1
  echo "$pid"
  for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do tree_pids "$child"; done
}

cpu_ticks() {
  local total=0 t
  for p in $(tree_pids "$1"); do
    t=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)
    total=$((total + t))
  done
  echo "$total"
}

# Sum of a /proc/PID/status field (kB) over the tree, in MB.
mem_mb() {
  local total=0 kb
  for p in $(tree_pids "$1"); do
    kb=$(awk -v f="$2:" '$1 == f { print $2 }' "/proc/$p/status" 2>/dev/null || true)
    total=$((total + ${kb:-0}))
  done
  echo "scale=1; $total / 1024" | bc
}

# Refuses a server that listens anywhere but loopback.
assert_loopback() {
  local name=$1 pid=$2 pids bad
  pids=$(tree_pids "$pid" | paste -sd'|')
  bad=$(ss -ltnpH 2>/dev/null | grep -E "pid=($pids)," | awk '{ print $4 }' | grep -vE '^(127\.0\.0\.1|\[::1\]):' || true)
  if [[ -n $bad ]]; then
    log "$name listens beyond loopback ($bad): stopping it"
    stop_server "$pid"
    return 1
  fi
}

# wait_ready NAME URL HEADERS BODY PID: a 200 for the real request within 30 s.
wait_ready() {
  local name=$1 url=$2 headers=$3 body=$4 pid=$5 code=000
  local -a h=()
  IFS='|' read -ra parts <<<"$headers"
  for p in "${parts[@]}"; do h+=(-H "$p"); done
  local answered=0
  for _ in $(seq 150); do
    kill -0 "$pid" 2>/dev/null || { log "$name exited during start-up"; return 1; }
    code=$(curl -s -o "$WORK/probe-$name.out" -w '%{http_code}' --max-time 5 -H 'Content-Type: application/json' "${h[@]}" --data-binary "@$body" "$url" || true)
    [[ $code == 200 ]] && return 0
    # A server that keeps answering something else for 5 s will not get better.
    [[ $code != 000 ]] && ((++answered >= 25)) && break
    sleep 0.2
  done
  log "$name did not answer 200 (last status $code, body: $(head -c 300 "$WORK/probe-$name.out" 2>/dev/null))"
  return 1
}

upstream_shape() { curl -s --max-time 5 -X POST "http://127.0.0.1:$FAKE_PORT/fake/config?$1" >/dev/null; }

# ---------------------------------------------------------------- tools
APT_UPDATED=0
apt_install() {
  ((INSTALL)) || return 1
  command -v apt-get >/dev/null && [[ $(id -u) == 0 ]] || return 1
  if ((!APT_UPDATED)); then timeout 300 apt-get update -qq >"$WORK/logs/apt.log" 2>&1 || true; APT_UPDATED=1; fi
  # policy-rc.d stops Debian's nginx package from starting a server on port 80 while installing.
  local created=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; created=1; fi
  local status=0
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq "$@" >>"$WORK/logs/apt.log" 2>&1 || status=$?
  ((created)) && rm -f /usr/sbin/policy-rc.d
  return "$status"
}

has_target() { [[ ,$TARGETS, == *,$1,* ]]; }
drop_target() { TARGETS=$(echo ",$TARGETS," | sed "s/,$1,/,/; s/^,//; s/,$//"); }

ensure_tools() {
  command -v bc >/dev/null || apt_install bc || { echo "run.sh: bc is required" >&2; exit 1; }
  if ! command -v wrk >/dev/null; then
    apt_install wrk || note "wrk unavailable (not installable here): the closed loop uses the .NET load client instead"
  fi
  if has_target nginx && ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
    apt_install nginx || { note "nginx: skipped, not installed and apt-get could not install it"; drop_target nginx; }
  fi
  if has_target portkey && ! command -v node >/dev/null; then
    apt_install nodejs npm || { note "portkey: skipped, node not installed and apt-get could not install it"; drop_target portkey; }
  fi
  if has_target portkey; then
    local dir=$WORK/portkey stamp
    stamp=$(cat "$BENCH_DIR/portkey/package.json" "$BENCH_DIR/portkey/package-lock.json" | sha256sum | cut -c1-16)
    if [[ ! -f $dir/.stamp || $(cat "$dir/.stamp") != "$stamp" ]]; then
      log "installing Portkey gateway from npm into $dir"
      rm -rf "$dir" && mkdir -p "$dir"
      cp "$BENCH_DIR/portkey/package.json" "$BENCH_DIR/portkey/package-lock.json" "$dir/"
      # --ignore-scripts: the package's postinstall (patch-package) has nothing to patch in the published build.
      if (cd "$dir" && timeout 600 npm ci --ignore-scripts --no-audit --no-fund) >"$WORK/logs/npm.log" 2>&1; then
        echo "$stamp" >"$dir/.stamp"
      else
        note "portkey: skipped, npm ci failed (see bench/.work/logs/npm.log)"
        drop_target portkey
      fi
    fi
  fi
}

build() {
  local project=$1
  log "building $project"
  timeout 600 dotnet build -c Release -nologo -v q "$project" >"$WORK/logs/build-$(basename "$project").log" 2>&1
}

# ---------------------------------------------------------------- targets
declare -A URL HEADERS PID BODY STREAM_BODY
write_bodies() {
  local target=$1 model=$2 extra=${3:-}
  local messages='[{"role":"system","content":"You are a concise assistant for a platform team. Answer in one short paragraph."},{"role":"user","content":"Our gateway sits in front of several model providers. Explain in two sentences why measuring the latency it adds, separately from the provider latency, matters when we compare proxies."}]'
  BODY[$target]=$WORK/body-$target.json
  STREAM_BODY[$target]=$WORK/stream-$target.json
  printf '{"model":"%s","messages":%s,"max_tokens":128%s,"stream":false}' "$model" "$messages" "$extra" >"${BODY[$target]}"
  printf '{"model":"%s","messages":%s,"max_tokens":128%s,"stream":true,"stream_options":{"include_usage":true}}' "$model" "$messages" "$extra" >"${STREAM_BODY[$target]}"
}

start_fake() {
  FAKE_PORT=$BASE_PORT
  port_free "$FAKE_PORT" || { echo "run.sh: port $FAKE_PORT is in use; pass --base-port" >&2; exit 1; }
  PIN_TO=$UPSTREAM_CPUS FAKE_UPSTREAM_KEY=$UPSTREAM_KEY FAKE_CHUNKS=$CHUNKS Logging__LogLevel__Default=Warning \
    start_server fake-upstream "$WORK/logs/fake-upstream.log" \
    dotnet "$BENCH_DIR/FakeUpstream/bin/Release/net10.0/FakeUpstream.dll" --urls "http://127.0.0.1:$FAKE_PORT"
  FAKE_PID=$LAST_PID
  for _ in $(seq 150); do curl -sf --max-time 2 "http://127.0.0.1:$FAKE_PORT/healthz" >/dev/null && break; sleep 0.2; done
  assert_loopback fake-upstream "$FAKE_PID" || exit 1
}

# Each start_* sets URL/HEADERS/PID for its target, or returns 1 with a note.
start_direct() {
  URL[direct]=http://127.0.0.1:$FAKE_PORT/v1/chat/completions
  HEADERS[direct]="Authorization: Bearer $UPSTREAM_KEY"
  PID[direct]=$FAKE_PID
  write_bodies direct upstream-model
}

start_yarp() {
  local port=$((BASE_PORT + 1))
  port_free "$port" || { note "yarp: skipped, port $port in use"; return 1; }
  Logging__LogLevel__Default=Warning start_server yarp "$WORK/logs/yarp.log" \
    dotnet "$BENCH_DIR/PlainYarp/bin/Release/net10.0/PlainYarp.dll" --urls "http://127.0.0.1:$port" "--Upstream=http://127.0.0.1:$FAKE_PORT/"
  PID[yarp]=$LAST_PID
  URL[yarp]=http://127.0.0.1:$port/v1/chat/completions
  HEADERS[yarp]="Authorization: Bearer $UPSTREAM_KEY"
  write_bodies yarp upstream-model
}

start_nginx() {
  local port=$((BASE_PORT + 2)) prefix=$WORK/nginx nginx_bin
  nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
  port_free "$port" || { note "nginx: skipped, port $port in use"; return 1; }
  rm -rf "$prefix" && mkdir -p "$prefix"
  sed -e "s|@PREFIX@|$prefix|g" -e "s|@PORT@|$port|g" -e "s|@UPSTREAM_PORT@|$FAKE_PORT|g" -e "s|@WORKERS@|$NGINX_WORKERS|g" \
    "$BENCH_DIR/nginx/nginx.conf.template" >"$prefix/nginx.conf"
  start_server nginx "$WORK/logs/nginx.log" "$nginx_bin" -p "$prefix" -e "$prefix/error.log" -c "$prefix/nginx.conf"
  PID[nginx]=$LAST_PID
  URL[nginx]=http://127.0.0.1:$port/v1/chat/completions
  HEADERS[nginx]="Authorization: Bearer $UPSTREAM_KEY"
  write_bodies nginx upstream-model
}

start_portkey() {
  local port=$((BASE_PORT + 4))
  port_free "$port" || { note "portkey: skipped, port $port in use"; return 1; }
  NODE_ENV=production start_server portkey "$WORK/logs/portkey.log" \
    node --import "$BENCH_DIR/portkey/loopback.mjs" "$WORK/portkey/node_modules/@portkey-ai/gateway/build/start-server.js" "--port=$port" --headless
  PID[portkey]=$LAST_PID
  URL[portkey]=http://127.0.0.1:$port/v1/chat/completions
  HEADERS[portkey]="Authorization: Bearer $UPSTREAM_KEY|x-portkey-provider: openai|x-portkey-custom-host: http://127.0.0.1:$FAKE_PORT/v1"
  write_bodies portkey upstream-model
}

# The gateway, per the contract in bench/README.md: AIGATEWAY_CONFIG + ASPNETCORE_URLS.
start_gateway() {
  local port=$((BASE_PORT + 3)) dll key hash config=$WORK/gateway/gateway.json
  if [[ ! -f $GATEWAY_DIR/AiGateway.csproj ]]; then
    note "gateway: not built ($GATEWAY_DIR/AiGateway.csproj not found)"
    return 1
  fi
  if ! build "$GATEWAY_DIR"; then
    note "gateway: not built (dotnet build failed, see bench/.work/logs/build-$(basename "$GATEWAY_DIR").log)"
    return 1
  fi
  dll=$GATEWAY_DIR/bin/Release/net10.0/AiGateway.dll
  port_free "$port" || { note "gateway: skipped, port $port in use"; return 1; }
  key=bench-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  hash=$(printf '%s' "$key" | sha256sum | cut -d' ' -f1)
  # A folder of its own: the gateway watches its config's folder (recursively) for hot reload, and the
  # logs written under bench/.work would wake that watcher on every line.
  mkdir -p "$(dirname "$config")"
  cat >"$config" <<JSON
{
  "auth": { "allowAnonymous": false, "keys": [ { "name": "bench", "sha256": "$hash", "models": ["*"], "rateLimit": { "requestsPerMinute": 100000000, "tokensPerMinute": 10000000000 } } ] },
  "clusters": {
    "upstream": { "provider": "openai", "apiKey": "env:BENCH_UPSTREAM_KEY", "destinations": { "d1": { "address": "http://127.0.0.1:$FAKE_PORT/v1" } } },
    "mock": { "provider": "mock" }
  },
  "models": [
    { "name": "bench-model", "deployments": [ { "cluster": "upstream", "model": "upstream-model", "weight": 1 } ] },
    { "name": "bench-cached", "cache": { "enabled": true }, "deployments": [ { "cluster": "upstream", "model": "upstream-model", "weight": 1 } ] }
  ]
}
JSON
  # The one-line-per-request log stays on, as in production; everything else is quiet.
  # The usage ledger stays on too (SQLite, as on one machine), outside the watched config folder.
  AIGATEWAY_CONFIG=$config ASPNETCORE_URLS=http://127.0.0.1:$port Logging__LogLevel__Default=Warning BENCH_UPSTREAM_KEY=$UPSTREAM_KEY \
    UsageLedger__SqlitePath=$WORK/ledger/usage.db \
    start_server gateway "$WORK/logs/gateway.log" dotnet "$dll" --Logging:LogLevel:AiGateway.Requests=Information
  PID[gateway]=$LAST_PID
  URL[gateway]=http://127.0.0.1:$port/v1/chat/completions
  HEADERS[gateway]="Authorization: Bearer $key"
  write_bodies gateway bench-model
}

# The gateway again, on a cache hit: the same process (started here if the gateway target is not
# measured), a model with the response cache on, and deterministic bodies (temperature 0) so every
# request after the first is answered from the cache without touching the upstream.
start_gateway-cache() {
  if [[ -z ${PID[gateway]:-} ]]; then
    start_gateway || return 1
    wait_ready gateway "${URL[gateway]}" "${HEADERS[gateway]}" "${BODY[gateway]}" "${PID[gateway]}" || return 1
  fi
  URL[gateway-cache]=${URL[gateway]}
  HEADERS[gateway-cache]=${HEADERS[gateway]}
  PID[gateway-cache]=${PID[gateway]}
  write_bodies gateway-cache bench-cached ',"temperature":0'
}

# Starts a target and checks it for real: 200, loopback only, and for the gateway that the upstream
# saw the rewritten model and key.
bring_up() {
  local t=$1
  # The gateway check below reads the upstream's last model: reset it with a direct request first.
  [[ $t == gateway ]] && curl -s -o /dev/null --max-time 5 -H "Authorization: Bearer $UPSTREAM_KEY" \
    --data-binary '{"model":"probe-reset","messages":[]}' "http://127.0.0.1:$FAKE_PORT/v1/chat/completions"
  "start_$t" || return 1
  if ! wait_ready "$t" "${URL[$t]}" "${HEADERS[$t]}" "${BODY[$t]}" "${PID[$t]}"; then
    note "$t: not working (no 200 from ${URL[$t]}; log: bench/.work/logs/$t.log)"
    [[ $t == direct || $t == gateway-cache ]] || stop_server "${PID[$t]}"
    return 1
  fi
  assert_loopback "$t" "${PID[$t]}" || { note "$t: refused, listens beyond loopback"; return 1; }
  if [[ $t == gateway ]]; then
    local stats
    stats=$(curl -s --max-time 5 "http://127.0.0.1:$FAKE_PORT/fake/stats")
    if [[ $stats != *'"lastModel":"upstream-model"'* ]]; then
      note "gateway: not working (upstream did not receive model upstream-model: $stats)"
      stop_server "${PID[$t]}"
      return 1
    fi
  fi
}

# ---------------------------------------------------------------- measurements
LC_DLL=$BENCH_DIR/LoadClient/bin/Release/net10.0/LoadClient.dll

# load_client OUT TARGET MODE SECONDS ARGS... : the .NET load client against a target, metric lines to OUT.
load_client() {
  local out=$1 t=$2 mode=$3 seconds=$4
  shift 4
  local -a h=()
  IFS='|' read -ra parts <<<"${HEADERS[$t]}"
  for p in "${parts[@]}"; do h+=(-H "$p"); done
  drive "$out" $((seconds + 90)) dotnet "$LC_DLL" "$mode" --url "${URL[$t]}" "${h[@]}" "$@"
}

# closed_loop OUT TARGET SECONDS : wrk at fixed connections (the .NET client when wrk is missing).
closed_loop() {
  local out=$1 t=$2 seconds=$3
  if command -v wrk >/dev/null; then
    BENCH_BODY=${BODY[$t]} BENCH_HEADERS=${HEADERS[$t]} \
      drive "$out.raw" $((seconds + 60)) wrk -t1 "-c$CONNECTIONS" "-d${seconds}s" --timeout 10s -s "$BENCH_DIR/wrk/post.lua" "${URL[$t]}"
    grep -P '^\w+\t' "$out.raw" >"$out" || true
  else
    load_client "$out" "$t" loop "$seconds" --body "${BODY[$t]}" --connections "$CONNECTIONS" --duration "$seconds"
  fi
}

metric() { awk -F'\t' -v m="$2" '$1 == m { print $2 }' "$1"; }

# record_all TARGET ROUND FILE : every metric line of FILE into the TSV.
record_all() {
  local m v
  while IFS=$'\t' read -r m v; do [[ -n $m ]] && record "$1" "$2" "$m" "$v"; done <"$3"
}

# per TICKS COUNT : microseconds of CPU per unit, or empty.
per() { (($2 > 0)) && echo "scale=1; $1 * 1000000 / $CLK_TCK / $2" | bc || true; }

# Closed loop in windows of up to 4 s until at least the minimum has passed and two successive windows
# agree on CPU per request within 7 %, or --warmup-max. The minimum is --warmup-dotnet for the .NET
# processes: sharing a saturated core with the upstream, plain YARP's CPU/req sat near 225 us for
# ~20 s, then fell to 64 us at ~50 s as tiered PGO moved code to tier 1 (with tiering off it stayed at
# ~173 us from 8 s on), so stability alone stops too early on that plateau.
warm_up() {
  local t=$1 out=$WORK/warmup.out waited=0 window prev= cur= c0 c1 n min=$WARMUP
  [[ $t == direct || $t == yarp || $t == gateway ]] && ((WARMUP_DOTNET > min)) && min=$WARMUP_DOTNET
  window=$((min < 4 ? min : 4))
  ((window > 0)) || window=1
  upstream_shape "chunks=$CHUNKS&delayMs=0&ttfcMs=0"
  while :; do
    c0=$(cpu_ticks "${PID[$t]}")
    closed_loop "$out" "$t" "$window" || true
    c1=$(cpu_ticks "${PID[$t]}")
    waited=$((waited + window))
    n=$(metric "$out" requests)
    cur=$(per $((c1 - c0)) "${n:-0}")
    if ((waited >= min)) && [[ -n $prev && -n $cur ]] &&
      awk -v a="$prev" -v b="$cur" 'BEGIN { d = (a - b) / b; if (d < 0) d = -d; exit !(d < 0.07) }'; then
      break
    fi
    if ((waited >= WARMUP_MAX)); then
      ((QUICK)) || note "$t: CPU per request still moving after the ${WARMUP_MAX}s warm-up limit ($prev -> $cur us/req)"
      break
    fi
    prev=$cur
  done
  record "$t" 1 warmup_s "$waited"
  log "$t: warm after ${waited}s of closed loop (${cur:-n/a} us/req)"
  load_client "$out" "$t" rate 5 --body "${STREAM_BODY[$t]}" --stream 1 --rate "$STREAM_RATE" --duration 3 --client-warmup 0 || true
}

measure_round() {
  local t=$1 round=$2 out=$WORK/phase.out c0 c1 n cpu
  upstream_shape "chunks=$CHUNKS&delayMs=0&ttfcMs=0"

  c0=$(cpu_ticks "${PID[$t]}")
  closed_loop "$out" "$t" "$DURATION" || true
  c1=$(cpu_ticks "${PID[$t]}")
  record_all "$t" "$round" "$out"
  n=$(metric "$out" requests)
  cpu=$(per $((c1 - c0)) "${n:-0}")
  [[ -n $cpu ]] && record "$t" "$round" cpu_us_per_req "$cpu"
  log "$t round $round: closed loop $(metric "$out" rps) req/s, p50 $(metric "$out" p50_ms) ms, p99 $(metric "$out" p99_ms) ms, CPU ${cpu:-n/a} us/req, errors $(metric "$out" errors)"

  load_client "$out" "$t" rate "$DURATION" --body "${BODY[$t]}" --rate "$RATE" --duration "$DURATION" --prefix rate_ || true
  record_all "$t" "$round" "$out"
  log "$t round $round: fixed rate $RATE/s p50 $(metric "$out" rate_p50_ms) ms, p99 $(metric "$out" rate_p99_ms) ms, errors $(metric "$out" rate_errors)"

  # CPU per stream is sampled by the client over its measured window only.
  load_client "$out" "$t" rate "$DURATION" --body "${STREAM_BODY[$t]}" --stream 1 --rate "$STREAM_RATE" --duration "$DURATION" \
    --prefix stream_ --cpu-pids "$(tree_pids "${PID[$t]}" | paste -sd,)" --clk-tck "$CLK_TCK" || true
  record_all "$t" "$round" "$out"
  log "$t round $round: streams TTFB p50 $(metric "$out" stream_ttfb_p50_ms) ms, p99 $(metric "$out" stream_ttfb_p99_ms) ms, $(metric "$out" stream_events_avg) events/stream, CPU $(metric "$out" stream_cpu_us_per_req) us/stream, errors $(metric "$out" stream_errors)"
}

hold_streams() {
  local t=$1 ready=$WORK/hold-$t.ready out=$WORK/hold-$t.out rss= seconds holder
  rm -f "$ready"
  upstream_shape "chunks=$HOLD_CHUNKS&delayMs=$HOLD_DELAY_MS&ttfcMs=0"
  seconds=$((HOLD_CHUNKS * HOLD_DELAY_MS / 1000 + 120))
  local -a h=()
  IFS='|' read -ra parts <<<"${HEADERS[$t]}"
  for p in "${parts[@]}"; do h+=(-H "$p"); done
  timeout -k 5 "$seconds" taskset -c "$DRIVER_CPUS" dotnet "$LC_DLL" hold --url "${URL[$t]}" "${h[@]}" \
    --body "${STREAM_BODY[$t]}" --stream 1 --streams "$HOLD_STREAMS" --ready-file "$ready" --ready-timeout 90 \
    --prefix hold_ >"$out" 2>>"$WORK/logs/drivers.log" &
  holder=$!
  DRIVER_PID=$holder
  for _ in $(seq $((seconds * 10))); do
    if [[ -s $ready ]]; then rss=$(mem_mb "${PID[$t]}" VmRSS); break; fi
    kill -0 "$holder" 2>/dev/null || break
    sleep 0.1
  done
  wait "$holder" || true
  DRIVER_PID=
  record_all "$t" 1 "$out"
  [[ -n $rss ]] && record "$t" 1 hold_rss_mb "$rss"
  log "$t: $(metric "$out" hold_concurrent) streams open at once, RSS ${rss:-n/a} MB, errors $(metric "$out" hold_errors)"
  upstream_shape "chunks=$CHUNKS&delayMs=0&ttfcMs=0"
}

# ---------------------------------------------------------------- run
: >"$TSV"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if ((HOLD_STREAMS * 2 + 1000 > $(ulimit -n))); then
  note "open-file limit $(ulimit -n) is too low for $HOLD_STREAMS streams; holding $((($(ulimit -n) - 1000) / 2))"
  HOLD_STREAMS=$((($(ulimit -n) - 1000) / 2))
fi

ensure_tools
build "$BENCH_DIR/FakeUpstream" && build "$BENCH_DIR/PlainYarp" && build "$BENCH_DIR/LoadClient" ||
  { echo "run.sh: building the bench projects failed, see bench/.work/logs/" >&2; exit 1; }

UPSTREAM_KEY=upstream-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
start_fake

ACTIVE=()
IFS=',' read -ra wanted <<<"$TARGETS"
for t in "${wanted[@]}"; do
  case $t in
    direct | yarp | nginx | gateway | gateway-cache | portkey) ;;
    *) note "$t: unknown target, skipped"; continue ;;
  esac
  if bring_up "$t"; then ACTIVE+=("$t"); fi
done
((${#ACTIVE[@]})) || { echo "run.sh: no target could be started" >&2; exit 1; }
log "targets: ${ACTIVE[*]}"

meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
meta machine "$(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(free -g | awk '/Mem:/ { print $2 }') GB RAM, $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
meta software ".NET $(dotnet --list-runtimes | awk '/NETCore.App/ { v = $2 } END { print v }'), $(command -v nginx >/dev/null && nginx -v 2>&1 | sed 's/.*: //' || echo 'nginx n/a'), node $(node --version 2>/dev/null || echo n/a), load: $(command -v wrk >/dev/null && echo "wrk $(wrk -v 2>&1 | head -1 | awk '{ print $2 }')" || echo '.NET load client') + .NET load client"
if ((!PIN)); then
  meta layout "not pinned"
elif [[ $LAYOUT == split ]]; then
  meta layout "split: proxy pinned to core $SERVER_CPUS, fake upstream and load drivers to core $DRIVER_CPUS (direct and fast proxies are then bound by core $DRIVER_CPUS)"
else
  meta layout "shared: servers (proxy + fake upstream) pinned to core $SERVER_CPUS, load drivers to core $DRIVER_CPUS"
fi
meta run "$ROUNDS round(s) × $DURATION s per phase, rotating order, warm-up per target until CPU/req is steady (at least ${WARMUP} s, ${WARMUP_DOTNET} s for .NET, at most ${WARMUP_MAX} s) plus 3 s of streams; closed loop $CONNECTIONS connections; fixed rate $RATE req/s; streams at $STREAM_RATE/s with $CHUNKS content chunks + usage; hold $HOLD_STREAMS streams of $HOLD_CHUNKS chunks every $HOLD_DELAY_MS ms"
meta "load average at start" "$(cut -d' ' -f1-3 /proc/loadavg) (anything else running on the box shows here)"
((QUICK)) && meta mode "--quick smoke run: figures are not meaningful"

for t in "${ACTIVE[@]}"; do warm_up "$t"; done
n=${#ACTIVE[@]}
for ((r = 1; r <= ROUNDS; r++)); do
  for ((k = 0; k < n; k++)); do
    measure_round "${ACTIVE[$(((r - 1 + k) % n))]}" "$r"
  done
done
for t in "${ACTIVE[@]}"; do record "$t" 1 peak_rss_mb "$(mem_mb "${PID[$t]}" VmHWM)"; done
((HOLD_STREAMS > 0)) && for t in "${ACTIVE[@]}"; do hold_streams "$t"; done

meta "load average at end" "$(cut -d' ' -f1-3 /proc/loadavg)"
stats=$(curl -s --max-time 5 "http://127.0.0.1:$FAKE_PORT/fake/stats")
log "fake upstream: $stats"
[[ $stats == *'"unauthorized":0'* ]] || note "the fake upstream refused some requests: $stats"

taskset -c "$DRIVER_CPUS" dotnet "$LC_DLL" report --input "$TSV" --output "$OUTPUT"
log "written $OUTPUT"

if ((STRICT)); then
  failed=$(awk -F'\t' '$1 !~ /^#/ && $3 ~ /errors$/ && $4 > 0 { print $1 " " $3 "=" $4 }' "$TSV" | sort -u)
  unmeasured=$(grep -cP '^#note\t[a-z]+: (skipped|not |refused|unknown)' "$TSV" || true)
  if [[ -n $failed || $unmeasured != 0 ]]; then
    log "--strict: errors or unmeasured targets: ${failed//$'\n'/, } (notes: $unmeasured)"
    exit 3
  fi
fi
