#!/usr/bin/env bash
# The department inbox under load: a police officer's open summonses across
# the district (50 a page, parties masked), under wrk beside pgbench running
# the captured transaction; then the busy street officer's whistle list.
#   BENCH_DB=onegrid_city bench/mediation/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${ONEGRID_BIN_DIR:-target/release}
DB=${BENCH_DB:-onegrid_city}
POOL=${POOL:-16}
WRK_CONNS=${WRK_CONNS:-64}
DURATION=${DURATION:-20}
PORT=${PORT:-18093}
API=http://127.0.0.1:$PORT/api/v1
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB
. bench/lib.sh

start_server
admin=$(login city-admin OneGrid-bench-2026)
call() { curl -sf -H "Authorization: Bearer $admin" -H 'content-type: application/json' "$@"; }
police=$(call "$API/departments?limit=200" | jq -r '.items[] | select(.code == "police") | .id')
officer=$(call "$API/users" | jq -r '.items[] | select(.username == "bench-police") | .id')
if [[ -z $officer ]]; then
  officer=$(call -X POST "$API/users" -d '{"username":"bench-police","display_name":"基准民警","password":"OneGrid-bench-2026"}' | jq -r .id)
  call -X POST "$API/users/$officer/roles" -d "{\"role\":\"department_staff\",\"scope\":{\"department_id\":\"$police\"}}" >/dev/null
fi
token=$(login bench-police OneGrid-bench-2026)
inbox="$API/summonses?state=summoned&limit=50"
echo "$(psql -h 127.0.0.1 -U postgres -d "$DB" -Atc "SELECT count(*) FROM summonses WHERE department_id = '$police' AND state = 'summoned'") open police summonses across the district; first page: $(curl -sf -H "Authorization: Bearer $token" "$inbox" | jq '.items | length') items"

capture_on
capture inbox "" -H "Authorization: Bearer $token" "$inbox"
capture_off
cp "$work/inbox.sql" /tmp/bench-mediation-inbox.sql

echo "== the police inbox (wrk -c$WRK_CONNS, pool $POOL, ${DURATION}s each)"
api -H "Authorization: Bearer $token" "$inbox"
pg "$work/inbox.sql"
