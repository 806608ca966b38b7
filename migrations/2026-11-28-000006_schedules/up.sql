-- Recurring work: schedules claimed by any worker (no leader). A worker
-- locks a due schedule with FOR UPDATE SKIP LOCKED, records the fire (its
-- primary key makes each fire happen once), queues the fire's job under a
-- unique key and moves next_run_at on, all in one transaction.

CREATE TABLE schedules (
    id uuid PRIMARY KEY,
    district_id uuid NOT NULL REFERENCES districts (id),
    street_id uuid REFERENCES streets (id),
    community_id uuid,
    -- One schedule per logical duty, e.g. 'ledger.stale_digest'.
    key text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_.:-]{1,120}$'),
    -- The job kind each fire queues.
    kind text NOT NULL CHECK (kind ~ '^[a-z][a-z_.]{1,60}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- A domain::recurrence::Recurrence.
    rule jsonb NOT NULL,
    misfire text NOT NULL CHECK (misfire IN ('run_once', 'skip')),
    payload jsonb NOT NULL DEFAULT '{}',
    enabled boolean NOT NULL DEFAULT true,
    -- NULL: not yet planned (the next worker pass plans it without firing).
    next_run_at timestamptz,
    last_fire_for timestamptz,
    last_fired_at timestamptz,
    fires bigint NOT NULL DEFAULT 0,
    misfires bigint NOT NULL DEFAULT 0,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (street_id, community_id) REFERENCES communities (street_id, id),
    CHECK (community_id IS NULL OR street_id IS NOT NULL)
);
CREATE UNIQUE INDEX schedules_key ON schedules (district_id, key);
CREATE INDEX schedules_due ON schedules (next_run_at NULLS FIRST) WHERE enabled;

-- Every fire: the record, and the guard (a fire instant happens once).
CREATE TABLE schedule_fires (
    id uuid NOT NULL UNIQUE,
    schedule_id uuid NOT NULL REFERENCES schedules (id),
    fire_for timestamptz NOT NULL,
    fired_at timestamptz NOT NULL,
    -- Fired late (a misfire run once), or not at all (a misfire skipped).
    outcome text NOT NULL CHECK (outcome IN ('on_time', 'late', 'skipped')),
    job_id uuid,
    PRIMARY KEY (schedule_id, fire_for)
);

ALTER TABLE schedules ENABLE ROW LEVEL SECURITY;
ALTER TABLE schedules FORCE ROW LEVEL SECURITY;
CREATE POLICY wall ON schedules
    USING (og_worker() OR district_id = og_district())
    WITH CHECK (og_worker() OR district_id = og_district());
ALTER TABLE schedule_fires ENABLE ROW LEVEL SECURITY;
ALTER TABLE schedule_fires FORCE ROW LEVEL SECURITY;
CREATE POLICY wall ON schedule_fires
    USING (og_worker() OR EXISTS (SELECT 1 FROM schedules s WHERE s.id = schedule_fires.schedule_id))
    WITH CHECK (og_worker());
-- The worker plans schedules for every district it serves.
CREATE POLICY worker ON districts FOR SELECT USING (og_worker());
GRANT SELECT, INSERT, UPDATE ON schedules TO onegrid_app;
GRANT SELECT, INSERT ON schedule_fires TO onegrid_app;

-- One stale-ledger digest per grid worker per day: the guard and the record.
CREATE TABLE ledger_stale_digests (
    street_id uuid NOT NULL REFERENCES streets (id),
    user_id uuid NOT NULL REFERENCES users (id),
    digest_for date NOT NULL,
    stale integer NOT NULL CHECK (stale > 0),
    notification_id uuid NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (street_id, user_id, digest_for)
);
ALTER TABLE ledger_stale_digests ENABLE ROW LEVEL SECURITY;
ALTER TABLE ledger_stale_digests FORCE ROW LEVEL SECURITY;
CREATE POLICY wall ON ledger_stale_digests USING (street_id = ANY (og_streets()));
GRANT SELECT, INSERT ON ledger_stale_digests TO onegrid_app;

-- Finding stale records per street and grid without reading the others.
CREATE INDEX ledger_records_verified ON ledger_records (street_id, grid_id, verified_at) WHERE status = 'active';

-- Wake the workers when a job is queued (polling stays the floor). One
-- notice per statement; PostgreSQL delivers it at commit and folds repeats.
CREATE FUNCTION og_jobs_queued() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('onegrid_jobs', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER jobs_queued AFTER INSERT ON jobs
    FOR EACH STATEMENT EXECUTE FUNCTION og_jobs_queued();
