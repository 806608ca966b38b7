#!/usr/bin/env bash
# List the grids of a community as a grid worker: the API under wrk versus
# pgbench running the same transaction as the same role. See bench/README.md.
#
#   cargo build --release --workspace --bins && bench/run.sh
#
# Settings (environment): ONEGRID_BIN_DIR (target/release), BENCH_DB
# (onegrid_bench, dropped and re-created), POOL (16: API pool size = pgbench
# clients), WRK_CONNS (64), DURATION (30 s), PORT (18090).
# CAPTURE=1: instead of benchmarking, print the statements the API sends for
# one request (log_statement = 'all' on the database, then reset), to check
# bench/list-grids.pgbench.sql against the code.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${ONEGRID_BIN_DIR:-target/release}
DB=${BENCH_DB:-onegrid_bench}
POOL=${POOL:-16}
WRK_CONNS=${WRK_CONNS:-64}
DURATION=${DURATION:-30}
PORT=${PORT:-18090}
API=http://127.0.0.1:$PORT/api/v1
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB

# Tools: wrk and jq from Debian's packages if missing; pgbench comes with PostgreSQL.
missing=()
for tool in wrk jq; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
for tool in pgbench psql curl; do command -v "$tool" >/dev/null || { echo "need $tool" >&2; exit 1; }; done
[[ -x $BIN/onegrid ]] || { echo "no $BIN/onegrid: cargo build --release --workspace --bins" >&2; exit 1; }

# Anything else running (a build) takes CPU from both sides unevenly.
awk '$1 > 0.5 {print "warning: load average " $1 ": the figures will be low and noisy" > "/dev/stderr"}' /proc/loadavg

work=$(mktemp -d)
server=
cleanup() {
  if [[ -n $server ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  [[ ${CAPTURE:-} == 1 ]] && psql -h 127.0.0.1 -U postgres -qc "ALTER DATABASE $DB RESET log_statement" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

echo "== database $DB (fresh), demo data"
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
RUST_LOG=warn "$BIN/onegrid" migrate
RUST_LOG=warn "$BIN/onegrid" seed-demo
[[ ${CAPTURE:-} == 1 ]] && psql -h 127.0.0.1 -U postgres -qc "ALTER DATABASE $DB SET log_statement = 'all'"

echo "== serve on :$PORT with ONEGRID_POOL_SIZE=$POOL"
ONEGRID_BIND=127.0.0.1:$PORT ONEGRID_POOL_SIZE=$POOL ONEGRID_ACCESS_TTL_SECS=3600 RUST_LOG=warn \
  "$BIN/onegrid" serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

token=$(curl -sf -H 'content-type: application/json' -d '{"username":"suyue","password":"OneGrid-demo-2026"}' \
  "$API/auth/login" | jq -r .access_token)
get() { curl -sf -H "Authorization: Bearer $token" "$API$1"; }
street_id=$(get /streets | jq -r '.items[] | select(.name == "团结街道") | .id')
community_id=$(get "/streets/$street_id/communities" | jq -r '.items[] | select(.code == "150203001001") | .id')
url=$API/communities/$community_id/grids
[[ $(get "/communities/$community_id/grids" | jq '.items | length') == 7 ]] || { echo "expected 7 grids" >&2; exit 1; }

if [[ ${CAPTURE:-} == 1 ]]; then
  log=$(ls -t /var/log/postgresql/*.log | head -1)
  offset=$(stat -c %s "$log")
  get "/communities/$community_id/grids" >/dev/null
  sleep 0.5
  tail -c +$((offset + 1)) "$log" | grep "onegrid_app@$DB" | tee "$work/captured.log"
  # Compare with the pgbench script (pool check `SELECT $1` is outside the transaction).
  sed -n 's/.*LOG:  \(execute [a-z0-9_]*\|statement\): //p' "$work/captured.log" | grep -vx 'SELECT \$1' >"$work/api.sql"
  grep -v '^--\|^\\' bench/list-grids.pgbench.sql | sed 's/;$//' |
    perl -pe 'my $n = 0; s/:[a-z_]+|(?<=api_key_id., )\x27\x27/"\$" . ++$n/ge' >"$work/pgbench.sql"
  diff "$work/api.sql" "$work/pgbench.sql" && echo "bench/list-grids.pgbench.sql matches the API's transaction"
  exit 0
fi

# The token's claims are what the API binds: sub = user, sid = session, dst = district.
payload=$(cut -d. -f2 <<<"$token" | tr '_-' '/+')
while ((${#payload} % 4)); do payload+='='; done
claims=$(base64 -d <<<"$payload")
claim() { jq -r ".$1" <<<"$claims"; }

pgbench_run() { # seconds, then extra pgbench options
  local secs=$1; shift
  pgbench -h 127.0.0.1 -U onegrid_app -n -M prepared -c "$POOL" -j 2 -T "$secs" "$@" \
    -f bench/list-grids.pgbench.sql \
    -D user_id="$(claim sub)" -D session_id="$(claim sid)" -D district_id="$(claim dst)" \
    -D street_var=app.street_ids -D street_ids="$street_id" -D community_id="$community_id" \
    -D now="$(date -u '+%F %T+00')" -D today="$(date -u -d '+8 hours' +%F)" "$DB"
}

echo "== warm-up (5 s each)"
wrk -t2 -c"$WRK_CONNS" -d5s -H "Authorization: Bearer $token" "$url" >/dev/null
pgbench_run 5 >/dev/null 2>&1

echo "== API: wrk -t2 -c$WRK_CONNS -d${DURATION}s --latency GET $url"
wrk -t2 -c"$WRK_CONNS" -d"${DURATION}s" --latency -H "Authorization: Bearer $token" "$url" | tee "$work/wrk.txt"
if grep -q 'Non-2xx' "$work/wrk.txt"; then echo "the API answered errors" >&2; exit 1; fi

echo "== pgbench -M prepared -c$POOL -j2 -T$DURATION as onegrid_app"
pgbench_run "$DURATION" -l --log-prefix="$work/pgb" | tee "$work/pgbench.txt"

rps=$(awk '/^Requests\/sec/ {print $2}' "$work/wrk.txt")
wrk_p() { awk -v p="$1%" '$1 == p {print $2}' "$work/wrk.txt"; }
tps=$(awk '/^tps = / {print $3}' "$work/pgbench.txt")
read -r pg_p50 pg_p99 < <(cat "$work"/pgb.* | awk '{print $3}' | sort -n |
  awk '{l[NR] = $1} END {printf "%.2fms %.2fms\n", l[int(NR*.50)]/1000, l[int(NR*.99)]/1000}')

echo
echo "== result (pool $POOL, wrk $WRK_CONNS connections, ${DURATION}s)"
printf 'API      %10.0f req/s  p50 %s  p99 %s\n' "$rps" "$(wrk_p 50)" "$(wrk_p 99)"
printf 'pgbench  %10.0f tps    p50 %s  p99 %s\n' "$tps" "$pg_p50" "$pg_p99"
awk -v a="$rps" -v b="$tps" 'BEGIN {printf "ratio API/pgbench = %.2f (target >= 0.80)\n", a/b}'
