#!/usr/bin/env bash
# The grid-package benchmarks on a city database made by generate.sh: a grid
# worker's targeting query ("veterans of my grid aged 60 or more, not on
# low-income allowance") and a page of their grid's veterans ledger, each under
# wrk beside pgbench running the captured transaction.
#   BENCH_DB=onegrid_city bench/city/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${ONEGRID_BIN_DIR:-target/release}
DB=${BENCH_DB:-onegrid_city}
POOL=${POOL:-16}
WRK_CONNS=${WRK_CONNS:-64}
DURATION=${DURATION:-20}
PORT=${PORT:-18091}
API=http://127.0.0.1:$PORT/api/v1
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB
for tool in wrk jq; do command -v "$tool" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$tool" >/dev/null; }; done

ONEGRID_BIND=127.0.0.1:$PORT ONEGRID_POOL_SIZE=$POOL ONEGRID_ACCESS_TTL_SECS=3600 RUST_LOG=warn "$BIN/onegrid" serve >/tmp/onegrid-city-serve.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

login() { curl -sf -H 'content-type: application/json' -d "{\"username\":\"$1\",\"password\":\"$2\"}" "$API/auth/login" | jq -r .access_token; }
admin=$(login city-admin OneGrid-bench-2026)
call() { curl -sf -H "Authorization: Bearer $admin" -H 'content-type: application/json' "$@"; }
street=$(call "$API/streets?limit=1" | jq -r '.items[0].id')
community=$(call "$API/streets/$street/communities?limit=1" | jq -r '.items[0].id')
grid=$(call "$API/communities/$community/grids?limit=1" | jq -r '.items[0].id')
worker=$(call "$API/users?street_id=$street" | jq -r '.items[] | select(.username == "bench-worker") | .id')
if [[ -z $worker ]]; then
  worker=$(call -X POST "$API/users" -d "{\"username\":\"bench-worker\",\"display_name\":\"基准网格员\",\"password\":\"OneGrid-bench-2026\",\"street_id\":\"$street\"}" | jq -r .id)
  call -X POST "$API/users/$worker/roles" -d "{\"role\":\"grid_worker\",\"scope\":{\"grid_id\":\"$grid\"}}" >/dev/null
fi
token=$(login bench-worker OneGrid-bench-2026)
veterans=$(call "$API/ledger-types?limit=200" | jq -r '.items[] | select(.code == "veterans") | .id')
query="{\"query\":{\"ledger\":\"veterans\",\"conditions\":[{\"field\":\"age\",\"op\":\"gte\",\"value\":60}],\"also\":[{\"ledger\":\"low_income\",\"present\":false}],\"scope\":{\"grid_id\":\"$grid\"}},\"limit\":50}"
page="$API/ledger-types/$veterans/records?grid_id=$grid&limit=50"
echo "grid $grid: $(curl -sf -H "Authorization: Bearer $token" -H 'content-type: application/json' -d "$query" "$API/ledger-queries" | jq '.items | length') query results, $(curl -sf -H "Authorization: Bearer $token" "$page" | jq '.items | length') on the ledger page"

# Capture the statements of one request of each kind and turn them into pgbench scripts.
work=$(mktemp -d)
log=/var/log/postgresql/$(ls /var/log/postgresql | grep -m1 main.log)
psql -h 127.0.0.1 -U postgres -qc "ALTER DATABASE $DB SET log_statement = 'all'"
sleep 0.5
capture() { # name, then the curl arguments of the request
  local name=$1; shift
  local before; before=$(wc -l <"$log")
  curl -sf -o /dev/null "$@"
  sleep 0.3
  tail -n +"$((before + 1))" "$log" | python3 bench/city/log2pgbench.py >"$work/$name.sql"
}
# New connections log their statements: take the capture on fresh ones by restarting the pool first.
kill "$server"; wait "$server" 2>/dev/null || true
ONEGRID_BIND=127.0.0.1:$PORT ONEGRID_POOL_SIZE=$POOL ONEGRID_ACCESS_TTL_SECS=3600 RUST_LOG=warn "$BIN/onegrid" serve >/tmp/onegrid-city-serve.log 2>&1 &
server=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
capture query -H "Authorization: Bearer $token" -H 'content-type: application/json' -d "$query" "$API/ledger-queries"
capture page -H "Authorization: Bearer $token" "$page"
psql -h 127.0.0.1 -U postgres -qc "ALTER DATABASE $DB RESET log_statement"
echo "captured: $(grep -c ';' "$work/query.sql") statements per query, $(grep -c ';' "$work/page.sql") per page"

pg() { # script
  pgbench -h 127.0.0.1 -U onegrid_app -n -M prepared -c "$POOL" -j 2 -T "$DURATION" -f "$1" -l --log-prefix="$work/pgb" "$DB" >"$work/pgbench.txt" 2>&1
  local tps; tps=$(awk '/^tps = / {print $3}' "$work/pgbench.txt")
  cat "$work"/pgb.* | awk '{print $3}' | sort -n | awk -v tps="$tps" '{l[NR] = $1} END {printf "pgbench %8.0f tps  p50 %.2fms  p99 %.2fms\n", tps, l[int(NR*.50)]/1000, l[int(NR*.99)]/1000}'
  rm -f "$work"/pgb.*
}
api() { # wrk arguments
  wrk -t2 -c"$WRK_CONNS" -d"${DURATION}s" --latency "$@" | awk '/Requests\/sec/ {r=$2} / 50%/ {p50=$2} / 99%/ {p99=$2} /Non-2xx/ {e=$0} END {printf "API     %8.0f req/s p50 %s  p99 %s %s\n", r, p50, p99, e}'
}
echo "== targeting query (wrk -c$WRK_CONNS, pool $POOL, ${DURATION}s each)"
TOKEN=$token BODY=$query api -s bench/city/post.lua "$API/ledger-queries"
pg "$work/query.sql"
echo "== ledger page of the grid worker"
api -H "Authorization: Bearer $token" "$page"
pg "$work/page.sql"
rm -rf "$work"
