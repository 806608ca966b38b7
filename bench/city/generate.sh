#!/usr/bin/env bash
# Fills a database with a city: SCALE=1 (default) for 100 streets, 10,500
# grids, 1.05 M households, 3.15 M residents and about 10 M ledger records;
# SCALE=0.01 for 1 %. Creates (drops first) BENCH_DB, migrates it with the
# release binary and bootstraps the district whose data this is.
#   cargo build --release --workspace --bins && SCALE=0.01 bench/city/generate.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${ONEGRID_BIN_DIR:-target/release}
DB=${BENCH_DB:-onegrid_city}
SCALE=${SCALE:-1}
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
RUST_LOG=warn "$BIN/onegrid" migrate
ONEGRID_BOOTSTRAP_PASSWORD=OneGrid-bench-2026 RUST_LOG=warn "$BIN/onegrid" bootstrap 150299 基准市区 city-admin
district=$(psql -h 127.0.0.1 -U postgres -d "$DB" -Atc "SELECT id FROM districts WHERE code = '150299'")
start=$(date +%s)
psql -h 127.0.0.1 -U postgres -d "$DB" -v district="$district" -v district_code=150299 -v scale="$SCALE" -f bench/city/generate.sql
echo "generated in $(( $(date +%s) - start )) s"
psql -h 127.0.0.1 -U postgres -d "$DB" -Atc "SELECT pg_size_pretty(pg_database_size('$DB'))"
