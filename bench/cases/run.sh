#!/usr/bin/env bash
# The case benchmarks on a city database with cases (bench/city/generate.sh,
# then bench/cases/generate.sh): a grid worker filing a case, and the same
# worker's work list (their cases, newest first, 50 a page), each under wrk
# beside pgbench running the captured transaction (new rows get fresh ids).
#   BENCH_DB=onegrid_city bench/cases/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${ONEGRID_BIN_DIR:-target/release}
DB=${BENCH_DB:-onegrid_city}
POOL=${POOL:-16}
WRK_CONNS=${WRK_CONNS:-64}
DURATION=${DURATION:-20}
PORT=${PORT:-18092}
API=http://127.0.0.1:$PORT/api/v1
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB
. bench/lib.sh

start_server
admin=$(login city-admin OneGrid-bench-2026)
bench_worker "$admin"
# The worker's grid's cases become theirs (as if dispatched to them).
psql -h 127.0.0.1 -U postgres -d "$DB" -qc "UPDATE cases SET assignee_user_id = '$worker' WHERE grid_id = '$grid'"
token=$(login bench-worker OneGrid-bench-2026)
noise=$(curl -sf -H "Authorization: Bearer $token" "$API/case-categories" | jq -r '.[] | select(.code == "03.02") | .id')
case_body="{\"channel\":\"patrol\",\"category_id\":\"$noise\",\"grid_id\":\"$grid\",\"title\":\"夜间噪声\",\"description\":\"楼下商铺夜间施工\"}"
worklist="$API/cases?mine=true&limit=50"
echo "grid $grid: $(psql -h 127.0.0.1 -U postgres -d "$DB" -Atc "SELECT count(*) FROM cases") cases in all, $(curl -sf -H "Authorization: Bearer $token" "$worklist" | jq '.items | length') on the worker's first page"

capture_on
capture create --fresh-ids -H "Authorization: Bearer $token" -H 'content-type: application/json' -d "$case_body" "$API/cases"
capture worklist "" -H "Authorization: Bearer $token" "$worklist"
capture_off

echo "== file a case (wrk -c$WRK_CONNS, pool $POOL, ${DURATION}s each)"
TOKEN=$token BODY=$case_body api -s bench/city/post.lua "$API/cases"
pg "$work/create.sql"
echo "== the grid worker's work list"
api -H "Authorization: Bearer $token" "$worklist"
pg "$work/worklist.sql"
