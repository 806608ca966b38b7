-- The worker's job queue (a transactional outbox): jobs are rows inserted in
-- the same transaction as the domain write that causes them, claimed with
-- FOR UPDATE SKIP LOCKED under a lease, completed by an update fenced on the
-- lease token, retried with backoff, rescued when a lease expires, and left
-- in a terminal state after the last attempt.

CREATE TABLE jobs (
    id uuid PRIMARY KEY,
    queue text NOT NULL CHECK (queue ~ '^[a-z][a-z_]{1,30}$'),
    kind text NOT NULL CHECK (kind ~ '^[a-z][a-z_.]{1,60}$'),
    -- The same logical job is never queued twice.
    unique_key text CHECK (length(unique_key) <= 200),
    district_id uuid REFERENCES districts (id),
    street_id uuid REFERENCES streets (id),
    payload jsonb NOT NULL DEFAULT '{}',
    state text NOT NULL DEFAULT 'available'
        CHECK (state IN ('available', 'running', 'completed', 'failed', 'discarded')),
    attempt integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    max_attempts integer NOT NULL DEFAULT 10 CHECK (max_attempts BETWEEN 1 AND 100),
    run_at timestamptz NOT NULL,
    lease_token uuid,
    leased_by text,
    lease_expires_at timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    CHECK ((state = 'running') = (lease_token IS NOT NULL)),
    CHECK ((state = 'running') = (lease_expires_at IS NOT NULL))
);
CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key) WHERE unique_key IS NOT NULL;
CREATE INDEX jobs_ready ON jobs (queue, run_at) WHERE state = 'available';
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_terminal ON jobs (queue, finished_at) WHERE state IN ('failed', 'discarded');

-- The worker works for every street: it says so per transaction; the API never does.
CREATE FUNCTION og_worker() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(current_setting('app.worker', true), '') = 'on' $$;

ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobs FORCE ROW LEVEL SECURITY;
-- Jobs are written with the domain write that causes them (inside the
-- caller's street), and read and worked by the worker.
CREATE POLICY wall ON jobs
    USING (og_worker() OR (district_id = og_district() AND (street_id IS NULL OR street_id = ANY (og_streets()))))
    WITH CHECK (og_worker() OR (district_id = og_district() AND (street_id IS NULL OR street_id = ANY (og_streets()))));

GRANT SELECT, INSERT, UPDATE ON jobs TO onegrid_app;

-- What a case clock's deadlines did: each stage (50 %, 75 %, due) fires once
-- per clock; the row is the record of the reminder or escalation.
CREATE TABLE case_clock_alerts (
    street_id uuid NOT NULL,
    clock_id uuid NOT NULL,
    stage text NOT NULL CHECK (stage IN ('warn_50', 'warn_75', 'due')),
    case_id uuid NOT NULL,
    fired_at timestamptz NOT NULL,
    -- For `due`: the level the case was escalated to (NULL: already at the top).
    escalated_to smallint,
    notified integer NOT NULL DEFAULT 0,
    PRIMARY KEY (street_id, clock_id, stage),
    FOREIGN KEY (street_id, clock_id) REFERENCES case_clocks (street_id, id),
    FOREIGN KEY (street_id, case_id) REFERENCES cases (street_id, id)
);
ALTER TABLE case_clock_alerts ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_clock_alerts FORCE ROW LEVEL SECURITY;
CREATE POLICY wall ON case_clock_alerts USING (street_id = ANY (og_streets())
    AND (NOT og_department_only() OR EXISTS (SELECT 1 FROM cases c
        WHERE c.street_id = case_clock_alerts.street_id AND c.id = case_clock_alerts.case_id)));
GRANT SELECT, INSERT ON case_clock_alerts TO onegrid_app;
