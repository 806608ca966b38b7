#!/usr/bin/env bash
# The job queue under two worker processes (release build): no-op throughput,
# start lateness of jobs due at known instants, and the time to rescue a job
# whose worker died holding it. Uses its own database (dropped and re-created).
#   cargo build --release --workspace --bins && bench/jobs/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${ONEGRID_BIN_DIR:-target/release}
DB=${BENCH_DB:-onegrid_jobs_bench}
JOBS=${JOBS:-50000}
SPREAD=${SPREAD:-30}        # seconds over which the lateness jobs fall due
PER_SECOND=${PER_SECOND:-100}
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB
psql_db() { psql -h 127.0.0.1 -U postgres -d "$DB" -Atq "$@"; }
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
RUST_LOG=warn "$BIN/onegrid" migrate
workers=()
start_workers() {
  for port in 18181 18182; do
    ONEGRID_WORKER_BIND=127.0.0.1:$port RUST_LOG=warn "$@" "$BIN/onegrid-worker" >/dev/null 2>&1 &
    workers+=($!)
  done
}
stop_workers() { kill "${workers[@]}" 2>/dev/null || true; wait "${workers[@]}" 2>/dev/null || true; workers=(); }
trap stop_workers EXIT
wait_done() { while [[ $(psql_db -c "SELECT count(*) FROM jobs WHERE state <> 'completed'") != 0 ]]; do sleep 0.5; done; }
noops() { # count, run_at expression (per row n)
  psql_db -c "INSERT INTO jobs (id, queue, kind, run_at) SELECT gen_random_uuid(), 'noop', 'noop', $2 FROM generate_series(1, $1) n"
}

echo "== throughput: $JOBS no-op jobs already due, two workers (default settings)"
noops "$JOBS" "now()"
start_workers env
wait_done
psql_db -c "SELECT format('%s jobs in %s s: %s jobs/s', count(*), round(extract(epoch FROM max(finished_at) - min(started_at))::numeric, 2),
                          round(count(*) / extract(epoch FROM max(finished_at) - min(started_at))::numeric)) FROM jobs"

echo "== start lateness: $((SPREAD * PER_SECOND)) jobs due at known instants over ${SPREAD} s ($PER_SECOND/s)"
psql_db -c "DELETE FROM jobs"
noops "$((SPREAD * PER_SECOND))" "now() + interval '2 seconds' + (n::float8 / $PER_SECOND) * interval '1 second'"
wait_done
psql_db -c "SELECT format('lateness p50 %s ms, p99 %s ms, max %s ms',
    round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - run_at))::numeric * 1000),
    round(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - run_at))::numeric * 1000),
    round(max(extract(epoch FROM started_at - run_at))::numeric * 1000)) FROM jobs"

echo "== rescue: a job claimed by a worker that then died (lease ${ONEGRID_WORKER_LEASE_SECS:-60} s)"
psql_db -c "DELETE FROM jobs"
psql_db -c "INSERT INTO jobs (id, queue, kind, run_at, state, attempt, lease_token, leased_by, lease_expires_at, started_at)
            VALUES (gen_random_uuid(), 'noop', 'noop', now(), 'running', 1, gen_random_uuid(), 'dead-worker',
                    now() + interval '${ONEGRID_WORKER_LEASE_SECS:-60} seconds', now())"
start=$(date +%s.%N)
wait_done
echo "rescued and completed after $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e - s}') s"
stop_workers
