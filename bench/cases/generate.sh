#!/usr/bin/env bash
# Adds CASES (default 2,000,000) cases with their history to a city database
# made by bench/city/generate.sh (same BENCH_DB).
#   SCALE=1 bench/city/generate.sh && bench/cases/generate.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
DB=${BENCH_DB:-onegrid_city}
CASES=${CASES:-2000000}
district=$(psql -h 127.0.0.1 -U postgres -d "$DB" -Atc "SELECT id FROM districts WHERE code = '150299'")
start=$(date +%s)
psql -h 127.0.0.1 -U postgres -d "$DB" -v district="$district" -v cases="$CASES" -f bench/cases/generate.sql
echo "generated in $(( $(date +%s) - start )) s"
psql -h 127.0.0.1 -U postgres -d "$DB" -Atc "SELECT pg_size_pretty(pg_database_size('$DB'))"
