-- Security limits count from durable records, so a Redis restart (Redis keeps
-- nothing on disk) cannot reset them.

-- Failed logins, keyed by a hash of the normalised username (never the name).
-- Reached only through the functions below: login runs before any scope exists.
CREATE TABLE login_failures (
    username_hash bytea NOT NULL,
    at timestamptz NOT NULL
);
CREATE INDEX login_failures_by_name ON login_failures (username_hash, at);
ALTER TABLE login_failures ENABLE ROW LEVEL SECURITY;
ALTER TABLE login_failures FORCE ROW LEVEL SECURITY;

CREATE FUNCTION og_login_failures_since(p_hash bytea, p_since timestamptz)
    RETURNS TABLE (failures bigint, oldest timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT count(*), min(at) FROM login_failures WHERE username_hash = p_hash AND at > p_since $$;

-- Records a failure and forgets that name's failures older than a day.
CREATE FUNCTION og_login_failure_record(p_hash bytea, p_at timestamptz)
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        DELETE FROM login_failures WHERE username_hash = p_hash AND at < p_at - interval '1 day';
        INSERT INTO login_failures (username_hash, at) VALUES (p_hash, p_at);
    $$;

CREATE FUNCTION og_login_failures_clear(p_hash bytea)
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ DELETE FROM login_failures WHERE username_hash = p_hash $$;

REVOKE ALL ON FUNCTION og_login_failures_since(bytea, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION og_login_failure_record(bytea, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION og_login_failures_clear(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION og_login_failures_since(bytea, timestamptz) TO onegrid_app;
GRANT EXECUTE ON FUNCTION og_login_failure_record(bytea, timestamptz) TO onegrid_app;
GRANT EXECUTE ON FUNCTION og_login_failures_clear(bytea) TO onegrid_app;

-- Reveals of sensitive values are audited; the quota counts an actor's reveal
-- entries in the audit log, whichever street they were in.
CREATE INDEX audit_log_actor_at ON audit_log (actor_id, at);
CREATE FUNCTION og_reveals_since(p_actor uuid, p_since timestamptz)
    RETURNS TABLE (reveals bigint, oldest timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        SELECT count(*), min(at) FROM audit_log
        WHERE actor_id = p_actor AND at > p_since
          AND action IN ('resident.reveal', 'case.reporter_reveal', 'dispute.party_reveal')
    $$;
REVOKE ALL ON FUNCTION og_reveals_since(uuid, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION og_reveals_since(uuid, timestamptz) TO onegrid_app;
GRANT SELECT ON login_failures TO onegrid_app; -- forced RLS, no policy: the app reads nothing
