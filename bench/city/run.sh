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
. bench/lib.sh

start_server
admin=$(login city-admin OneGrid-bench-2026)
bench_worker "$admin"
token=$(login bench-worker OneGrid-bench-2026)
veterans=$(curl -sf -H "Authorization: Bearer $admin" "$API/ledger-types?limit=200" | jq -r '.items[] | select(.code == "veterans") | .id')
query="{\"query\":{\"ledger\":\"veterans\",\"conditions\":[{\"field\":\"age\",\"op\":\"gte\",\"value\":60}],\"also\":[{\"ledger\":\"low_income\",\"present\":false}],\"scope\":{\"grid_id\":\"$grid\"}},\"limit\":50}"
page="$API/ledger-types/$veterans/records?grid_id=$grid&limit=50"
echo "grid $grid: $(curl -sf -H "Authorization: Bearer $token" -H 'content-type: application/json' -d "$query" "$API/ledger-queries" | jq '.items | length') query results, $(curl -sf -H "Authorization: Bearer $token" "$page" | jq '.items | length') on the ledger page"

capture_on
capture query "" -H "Authorization: Bearer $token" -H 'content-type: application/json' -d "$query" "$API/ledger-queries"
capture page "" -H "Authorization: Bearer $token" "$page"
capture_off

echo "== targeting query (wrk -c$WRK_CONNS, pool $POOL, ${DURATION}s each)"
TOKEN=$token BODY=$query api -s bench/city/post.lua "$API/ledger-queries"
pg "$work/query.sql"
echo "== ledger page of the grid worker"
api -H "Authorization: Bearer $token" "$page"
pg "$work/page.sql"
