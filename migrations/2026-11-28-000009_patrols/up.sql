-- The grid worker's daily patrol log (网格日巡记录本): one log per worker and
-- day with check-in and check-out times, an optional GPS track, the
-- households visited and the findings (with location and photos); a finding
-- turns into a case in one call, linked both ways. A full-time worker with
-- no log by the configured hour of a working day is flagged once.

CREATE TABLE patrol_logs (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    district_id uuid NOT NULL REFERENCES districts (id),
    community_id uuid NOT NULL,
    grid_id uuid NOT NULL,
    worker_id uuid NOT NULL REFERENCES users (id),
    day date NOT NULL,
    check_in_at timestamptz,
    check_out_at timestamptz,
    -- A GeoJSON LineString (lon, lat).
    track jsonb,
    notes text CHECK (length(notes) <= 4000),
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (street_id, id),
    UNIQUE (street_id, worker_id, day),
    FOREIGN KEY (street_id, grid_id) REFERENCES grids (street_id, id),
    CHECK (check_out_at IS NULL OR check_in_at IS NOT NULL AND check_out_at >= check_in_at)
);
CREATE UNIQUE INDEX patrol_logs_id ON patrol_logs (id);
CREATE INDEX patrol_logs_grid_day ON patrol_logs (street_id, grid_id, day);

CREATE TABLE patrol_visits (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    log_id uuid NOT NULL,
    household_id uuid NOT NULL,
    purpose text NOT NULL CHECK (length(purpose) BETWEEN 1 AND 200),
    service_mode text CHECK (service_mode IN ('home_visit', 'appointment', 'proxy', 'off_hours', 'bundled')),
    notes text CHECK (length(notes) <= 2000),
    next_visit_on date,
    at timestamptz NOT NULL,
    PRIMARY KEY (street_id, id),
    FOREIGN KEY (street_id, log_id) REFERENCES patrol_logs (street_id, id),
    FOREIGN KEY (street_id, household_id) REFERENCES households (street_id, id)
);
CREATE INDEX patrol_visits_log ON patrol_visits (street_id, log_id);

CREATE TABLE patrol_findings (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    log_id uuid NOT NULL,
    description text NOT NULL CHECK (length(description) BETWEEN 1 AND 2000),
    lon double precision,
    lat double precision,
    address text CHECK (length(address) <= 200),
    -- The case it became (tracked), if any.
    case_id uuid,
    at timestamptz NOT NULL,
    PRIMARY KEY (street_id, id),
    FOREIGN KEY (street_id, log_id) REFERENCES patrol_logs (street_id, id),
    FOREIGN KEY (street_id, case_id) REFERENCES cases (street_id, id),
    CHECK ((lon IS NULL) = (lat IS NULL)),
    CHECK (lon IS NULL OR (lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90))
);
CREATE UNIQUE INDEX patrol_findings_id ON patrol_findings (id);
CREATE INDEX patrol_findings_log ON patrol_findings (street_id, log_id);
CREATE INDEX patrol_findings_untracked ON patrol_findings (street_id, at) WHERE case_id IS NULL;

CREATE TABLE patrol_photos (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    finding_id uuid NOT NULL,
    file_name text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 100),
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp', 'application/pdf')),
    size_bytes integer NOT NULL CHECK (size_bytes > 0),
    sha256 bytea NOT NULL,
    uploaded_by uuid NOT NULL,
    uploaded_at timestamptz NOT NULL,
    PRIMARY KEY (street_id, id),
    FOREIGN KEY (street_id, finding_id) REFERENCES patrol_findings (street_id, id)
);

-- A missing log, flagged once per worker and day (the guard and the record).
CREATE TABLE patrol_missing (
    street_id uuid NOT NULL REFERENCES streets (id),
    worker_id uuid NOT NULL REFERENCES users (id),
    day date NOT NULL,
    grid_id uuid NOT NULL,
    flagged_at timestamptz NOT NULL,
    PRIMARY KEY (street_id, worker_id, day)
);

-- A case can name the patrol finding it came from.
ALTER TABLE case_links DROP CONSTRAINT case_links_subject_type_check;
ALTER TABLE case_links ADD CONSTRAINT case_links_subject_type_check
    CHECK (subject_type IN ('resident', 'household', 'ledger_record', 'patrol_finding'));

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['patrol_logs', 'patrol_visits', 'patrol_findings', 'patrol_photos', 'patrol_missing']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        -- Sub-selects: the scope is read once per query, not once per row.
        EXECUTE format('CREATE POLICY wall ON %I USING (street_id = ANY ((SELECT og_streets())::uuid[]))', t);
    END LOOP;
END
$$;
GRANT SELECT, INSERT, UPDATE ON patrol_logs, patrol_findings TO onegrid_app;
GRANT SELECT, INSERT ON patrol_visits, patrol_photos, patrol_missing TO onegrid_app;
