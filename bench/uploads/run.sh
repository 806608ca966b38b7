#!/usr/bin/env bash
# Uploads: memory and latency. Every file of bench/uploads/files.py (hostile
# and honest spreadsheets, each within the 5 MiB upload limit) is imported as
# a dry run into the built-in organisations ledger by a community admin, each
# on a freshly started API process, while /healthz is polled on the same
# process. Prints one table row per file:
#   file, bytes, answer (status and problem code), upload time,
#   RSS before, peak RSS (VmHWM) and growth, worst /healthz time during it.
#
#   cargo build --release --workspace --bins && bench/uploads/run.sh
#
# Settings (environment): ONEGRID_BIN_DIR (target/release), BENCH_DB
# (onegrid_uploads, dropped and re-created), PORT (18094), POOL (8).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${ONEGRID_BIN_DIR:-target/release}
DB=${BENCH_DB:-onegrid_uploads}
POOL=${POOL:-8}
PORT=${PORT:-18094}
API=http://127.0.0.1:$PORT/api/v1
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB
BENCH_TOOLS=jq
. bench/lib.sh
[[ -x $BIN/onegrid ]] || { echo "no $BIN/onegrid: cargo build --release --workspace --bins" >&2; exit 1; }
awk '$1 > 0.5 {print "warning: load average " $1 ": the figures will be high and noisy" > "/dev/stderr"}' /proc/loadavg

echo "== database $DB (fresh), demo data; files in $work"
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
RUST_LOG=warn "$BIN/onegrid" migrate
RUST_LOG=warn "$BIN/onegrid" seed-demo
python3 bench/uploads/files.py "$work/files"

kib() { awk '/^'"$1"':/ {print $2}' "/proc/$server/status"; }
xlsx_type=application/vnd.openxmlformats-officedocument.spreadsheetml.sheet

upload() { # file, dry_run; prints "status code seconds"
  local file=$1 dry=$2 type=text/csv
  [[ $file == *.xlsx ]] && type=$xlsx_type
  curl -s -o "$work/answer.json" -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $token" \
    -H "content-type: $type" --data-binary "@$file" "$API/ledger-types/$ledger/import?dry_run=$dry"
}

printf '%-22s %9s %-46s %8s %9s %9s %9s %9s\n' file bytes answer upload rss_mib peak_mib grown_mib healthz
while IFS=$'\t' read -r name bytes _rows _cols _unpacked _what; do
  for dry in true $([[ $name == honest.csv ]] && echo false); do
    start_server
    token=$(login chenlihua OneGrid-demo-2026)
    ledger=$(curl -sf -H "Authorization: Bearer $token" "$API/ledger-types?limit=100" | jq -r '.items[] | select(.code == "organisations") | .id')
    upload "$work/files/warm.csv" true >/dev/null
    before=$(kib VmRSS)
    echo 5 >"/proc/$server/clear_refs" # VmHWM starts again from here
    # /healthz on the same process, every 50 ms, while the upload runs.
    : >"$work/health"
    (while :; do curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$PORT/healthz" >>"$work/health"; sleep 0.05; done) &
    prober=$!
    read -r status secs < <(upload "$work/files/$name" "$dry")
    kill "$prober"; wait "$prober" 2>/dev/null || true
    code=$(jq -r 'if .code then .detail[0:40] else "rows \(.rows) valid \(.valid) errors \(.errors | length)" end' "$work/answer.json" 2>/dev/null || echo '-')
    kill -0 "$server" 2>/dev/null || { echo "$name: the API process died" >&2; exit 1; }
    peak=$(kib VmHWM)
    worst=$(sort -n "$work/health" | tail -1)
    label=$name; [[ $dry == false ]] && label="$name (write)"
    printf '%-22s %9s %-46s %7.2fs %9.1f %9.1f %9.1f %8.3fs\n' "$label" "$bytes" "$status $code" "$secs" \
      "$(bc -l <<<"$before/1024")" "$(bc -l <<<"$peak/1024")" "$(bc -l <<<"($peak-$before)/1024")" "${worst:-0}"
  done
done <"$work/files/files.tsv"
