#!/usr/bin/env bash
# Adds whistles (PER_STREET in every street, BUSY in the first) on street-level
# disputes, each summoning the nine panel departments, to a city database
# made by bench/city/generate.sh (same BENCH_DB).
#   SCALE=0.1 bench/city/generate.sh && bench/mediation/generate.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
DB=${BENCH_DB:-onegrid_city}
PER_STREET=${PER_STREET:-30}
BUSY=${BUSY:-300}
district=$(psql -h 127.0.0.1 -U postgres -d "$DB" -Atc "SELECT id FROM districts WHERE code = '150299'")
start=$(date +%s)
psql -h 127.0.0.1 -U postgres -d "$DB" -v district="$district" -v per_street="$PER_STREET" -v busy="$BUSY" -f bench/mediation/generate.sql
echo "generated in $(( $(date +%s) - start )) s"
