# Sourced by scripts/run, scripts/test and .ci/run: makes sure the local
# PostgreSQL and Redis this project needs are up, starting them if they are
# installed but stopped. Prints one line per service.

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

ensure_services() {
  if ! pg_up; then
    if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
      echo "starting PostgreSQL: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
      for _ in $(seq 1 30); do pg_up && break; sleep 1; done
    fi
    pg_up || { echo "PostgreSQL is not reachable at 127.0.0.1:5432; install PostgreSQL 15 and start it (pg_ctlcluster ... main start)" >&2; return 1; }
  fi
  if ! redis_up; then
    if command -v redis-server >/dev/null; then
      echo "starting Redis: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no"
      redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null || true
      for _ in $(seq 1 20); do redis_up && break; sleep 0.5; done
    fi
    redis_up || echo "Redis is not reachable at 127.0.0.1:6379; the platform runs without it, but the tests that use it will fail" >&2
  fi
  echo "PostgreSQL and Redis are up"
}
