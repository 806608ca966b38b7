DROP FUNCTION og_reveals_since(uuid, timestamptz);
DROP INDEX audit_log_actor_at;
DROP FUNCTION og_login_failures_clear(bytea);
DROP FUNCTION og_login_failure_record(bytea, timestamptz);
DROP FUNCTION og_login_failures_since(bytea, timestamptz);
DROP TABLE login_failures;
