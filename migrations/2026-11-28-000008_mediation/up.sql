-- Disputes (矛盾纠纷) and the nine-department joint mediation platform: the
-- dispute ladder, mediation sessions and outcomes, follow-up visits, the
-- street's whistle (街道吹哨) and each summoned department's report-in
-- (部门报到) with its deadline, steps and rating.

-- The district's mediation panel (nine departments by default) and its
-- report-in windows.
CREATE TABLE mediation_settings (
    district_id uuid PRIMARY KEY REFERENCES districts (id),
    emergency_minutes integer NOT NULL DEFAULT 30 CHECK (emergency_minutes BETWEEN 5 AND 240),
    other_hours integer NOT NULL DEFAULT 4 CHECK (other_hours BETWEEN 1 AND 72),
    panel uuid[] NOT NULL,
    version integer NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE dispute_numbers;

CREATE TABLE disputes (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    district_id uuid NOT NULL REFERENCES districts (id),
    community_id uuid NOT NULL,
    grid_id uuid,
    number bigint NOT NULL DEFAULT nextval('dispute_numbers'),
    kind text NOT NULL CHECK (kind IN ('neighbour', 'family', 'property', 'labour', 'land', 'contract', 'damages', 'other')),
    level text NOT NULL CHECK (level IN ('grid', 'community', 'street', 'centre')),
    status text NOT NULL CHECK (status IN ('open', 'settled', 'referred', 'closed')),
    summary text NOT NULL CHECK (length(summary) BETWEEN 1 AND 2000),
    case_id uuid,
    -- Where it ended: the level at the outcome.
    settled_level text CHECK (settled_level IN ('grid', 'community', 'street', 'centre')),
    referral text CHECK (referral IN ('court', 'arbitration', 'petition')),
    outcome_at timestamptz,
    -- Departments ever summoned on it (the wall's test for department staff).
    summoned uuid[] NOT NULL DEFAULT '{}',
    created_by uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (street_id, id),
    UNIQUE (street_id, number),
    FOREIGN KEY (street_id, community_id) REFERENCES communities (street_id, id),
    FOREIGN KEY (street_id, grid_id) REFERENCES grids (street_id, id),
    FOREIGN KEY (street_id, case_id) REFERENCES cases (street_id, id),
    CHECK ((status = 'open') = (outcome_at IS NULL)),
    CHECK ((outcome_at IS NULL) = (settled_level IS NULL)),
    CHECK (status <> 'referred' OR referral IS NOT NULL),
    CHECK (status <> 'settled' OR referral IS NULL)
);
CREATE INDEX disputes_open ON disputes (street_id, level, id) WHERE status = 'open';
-- Lookups by id alone (a department's summons names the dispute).
CREATE UNIQUE INDEX disputes_id ON disputes (id);
CREATE INDEX disputes_period ON disputes (district_id, created_at);

-- The parties: residents of the registry, or a person or organisation named
-- here (a person's phone sealed like every phone).
CREATE TABLE dispute_parties (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    dispute_id uuid NOT NULL,
    role text NOT NULL CHECK (role IN ('applicant', 'respondent', 'other')),
    kind text NOT NULL CHECK (kind IN ('resident', 'person', 'organisation')),
    resident_id uuid,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    phone_sealed bytea,
    PRIMARY KEY (street_id, id),
    FOREIGN KEY (street_id, dispute_id) REFERENCES disputes (street_id, id),
    FOREIGN KEY (street_id, resident_id) REFERENCES residents (street_id, id),
    CHECK ((kind = 'resident') = (resident_id IS NOT NULL))
);
CREATE INDEX dispute_parties_dispute ON dispute_parties (dispute_id);

-- Everything that happened to a dispute, append-only.
CREATE TABLE dispute_events (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    dispute_id uuid NOT NULL,
    step text NOT NULL,
    from_level text,
    to_level text,
    reason text CHECK (length(reason) <= 500),
    actor_id uuid NOT NULL,
    data jsonb NOT NULL DEFAULT '{}',
    at timestamptz NOT NULL,
    PRIMARY KEY (street_id, id),
    FOREIGN KEY (street_id, dispute_id) REFERENCES disputes (street_id, id)
);
CREATE INDEX dispute_events_dispute ON dispute_events (street_id, dispute_id, id);

-- Documents of a dispute (the mediation agreement): bytes in the blob store.
CREATE TABLE dispute_documents (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    dispute_id uuid NOT NULL,
    file_name text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 100),
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp', 'application/pdf')),
    size_bytes integer NOT NULL CHECK (size_bytes > 0),
    sha256 bytea NOT NULL,
    uploaded_by uuid NOT NULL,
    uploaded_at timestamptz NOT NULL,
    PRIMARY KEY (street_id, id),
    FOREIGN KEY (street_id, dispute_id) REFERENCES disputes (street_id, id)
);

CREATE TABLE mediation_sessions (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    dispute_id uuid NOT NULL,
    held_at timestamptz NOT NULL,
    place text NOT NULL CHECK (length(place) BETWEEN 1 AND 100),
    level text NOT NULL CHECK (level IN ('grid', 'community', 'street', 'centre')),
    mediators text[] NOT NULL,
    department_ids uuid[] NOT NULL DEFAULT '{}',
    notes text CHECK (length(notes) <= 4000),
    result text NOT NULL CHECK (result IN ('adjourned', 'agreement', 'failed')),
    referral text CHECK (referral IN ('court', 'arbitration', 'petition')),
    agreement_document_id uuid,
    recorded_by uuid NOT NULL REFERENCES users (id),
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (street_id, id),
    FOREIGN KEY (street_id, dispute_id) REFERENCES disputes (street_id, id),
    FOREIGN KEY (street_id, agreement_document_id) REFERENCES dispute_documents (street_id, id),
    CHECK ((result = 'agreement') = (agreement_document_id IS NOT NULL)),
    CHECK ((result = 'failed') = (referral IS NOT NULL))
);
CREATE INDEX mediation_sessions_dispute ON mediation_sessions (street_id, dispute_id);

CREATE TABLE dispute_follow_ups (
    street_id uuid NOT NULL,
    dispute_id uuid NOT NULL,
    seq smallint NOT NULL CHECK (seq BETWEEN 1 AND 20),
    due_on date NOT NULL,
    done_at timestamptz,
    done_by uuid REFERENCES users (id),
    notes text CHECK (length(notes) <= 2000),
    PRIMARY KEY (street_id, dispute_id, seq),
    FOREIGN KEY (street_id, dispute_id) REFERENCES disputes (street_id, id),
    CHECK ((done_at IS NULL) = (done_by IS NULL))
);

-- 街道吹哨: the street summons departments on a dispute or a case.
CREATE TABLE whistles (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    district_id uuid NOT NULL REFERENCES districts (id),
    dispute_id uuid,
    case_id uuid,
    reason text NOT NULL CHECK (reason IN ('pressing', 'joint_enforcement', 'emergency')),
    summary text NOT NULL CHECK (length(summary) BETWEEN 1 AND 500),
    status text NOT NULL CHECK (status IN ('open', 'closed')),
    -- The summoned departments (the wall's test for department staff).
    department_ids uuid[] NOT NULL,
    blown_by uuid NOT NULL REFERENCES users (id),
    blown_at timestamptz NOT NULL,
    closed_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (street_id, id),
    FOREIGN KEY (street_id, dispute_id) REFERENCES disputes (street_id, id),
    FOREIGN KEY (street_id, case_id) REFERENCES cases (street_id, id),
    CHECK ((dispute_id IS NULL) <> (case_id IS NULL)),
    CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);
CREATE INDEX whistles_period ON whistles (district_id, blown_at);
CREATE UNIQUE INDEX whistles_id ON whistles (id);

-- 部门报到: one per summoned department.
CREATE TABLE summonses (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    whistle_id uuid NOT NULL,
    district_id uuid NOT NULL,
    department_id uuid NOT NULL,
    dispute_id uuid,
    case_id uuid,
    reason text NOT NULL,
    summoned_at timestamptz NOT NULL,
    remind_at timestamptz NOT NULL,
    deadline_at timestamptz NOT NULL,
    state text NOT NULL CHECK (state IN ('summoned', 'reported_in', 'on_site', 'done')),
    reported_at timestamptz,
    reported_by uuid REFERENCES users (id),
    on_site_at timestamptz,
    done_at timestamptz,
    -- Set once each, by the worker.
    reminded_at timestamptz,
    overdue_at timestamptz,
    escalated_at timestamptz,
    rating smallint CHECK (rating IN (10, 8, 6, 3, 0)),
    rating_comment text CHECK (length(rating_comment) <= 500),
    rated_by uuid REFERENCES users (id),
    rated_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (street_id, id),
    UNIQUE (street_id, whistle_id, department_id),
    FOREIGN KEY (street_id, whistle_id) REFERENCES whistles (street_id, id),
    FOREIGN KEY (district_id, department_id) REFERENCES departments (district_id, id),
    CHECK ((state = 'summoned') = (reported_at IS NULL)),
    CHECK ((rating IS NULL) = (rated_at IS NULL))
);
CREATE INDEX summonses_department ON summonses (department_id, state, id);
CREATE UNIQUE INDEX summonses_id ON summonses (id);
CREATE INDEX summonses_period ON summonses (district_id, summoned_at);

-- What departments and the worker did with a summons, append-only.
CREATE TABLE summons_actions (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    summons_id uuid NOT NULL,
    step text NOT NULL CHECK (step IN ('report_in', 'on_site', 'action', 'done', 'reminded', 'overdue', 'escalated', 'rated')),
    note text CHECK (length(note) <= 2000),
    actor_id uuid NOT NULL,
    at timestamptz NOT NULL,
    PRIMARY KEY (street_id, id),
    FOREIGN KEY (street_id, summons_id) REFERENCES summonses (street_id, id)
);
CREATE INDEX summons_actions_summons ON summons_actions (street_id, summons_id, id);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['mediation_settings', 'disputes', 'dispute_parties', 'dispute_events',
        'dispute_documents', 'mediation_sessions', 'dispute_follow_ups', 'whistles', 'summonses', 'summons_actions']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    END LOOP;
END
$$;

CREATE POLICY wall ON mediation_settings USING (district_id = og_district());
-- Department staff see a summons of their department, and the whistle and
-- dispute it names; street staff see their street's.
CREATE POLICY wall ON summonses USING (street_id = ANY ((SELECT og_streets())::uuid[])
    AND (NOT (SELECT og_department_only()) OR department_id = ANY ((SELECT og_departments())::uuid[])));
CREATE POLICY wall ON summons_actions USING (street_id = ANY ((SELECT og_streets())::uuid[])
    AND (NOT (SELECT og_department_only()) OR EXISTS (SELECT 1 FROM summonses s
        WHERE s.street_id = summons_actions.street_id AND s.id = summons_actions.summons_id)));
-- The scope functions are wrapped in sub-selects so each query evaluates
-- them once (an InitPlan), not once per row. Whistles and disputes carry
-- their summoned departments, so the test is an array overlap rather than
-- a lookup per row.
CREATE POLICY wall ON whistles USING (street_id = ANY ((SELECT og_streets())::uuid[])
    AND (NOT (SELECT og_department_only()) OR department_ids && (SELECT og_departments())));
CREATE POLICY wall ON disputes USING (street_id = ANY ((SELECT og_streets())::uuid[])
    AND (NOT (SELECT og_department_only()) OR summoned && (SELECT og_departments())));
-- Whether a dispute was whistled to one of the caller's departments (the
-- caller's policy has already checked the street). PL/pgSQL so the planner
-- probes the key per row instead of hashing every dispute of the district;
-- it reads only that flag of that row.
CREATE FUNCTION og_dispute_summoned(street uuid, dispute uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = public
    AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM disputes d
        WHERE d.street_id = street AND d.id = dispute AND d.summoned && og_departments());
END
$$;
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['dispute_parties', 'dispute_events', 'dispute_documents', 'mediation_sessions', 'dispute_follow_ups']
    LOOP
        EXECUTE format('CREATE POLICY wall ON %I USING (street_id = ANY ((SELECT og_streets())::uuid[])
            AND (NOT (SELECT og_department_only()) OR og_dispute_summoned(street_id, dispute_id)))', t);
    END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE ON mediation_settings, disputes, dispute_follow_ups, whistles, summonses TO onegrid_app;
GRANT SELECT, INSERT ON dispute_parties, dispute_events, dispute_documents, mediation_sessions, summons_actions TO onegrid_app;
GRANT USAGE ON SEQUENCE dispute_numbers TO onegrid_app;

-- History cannot be edited, by anyone.
CREATE FUNCTION og_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON dispute_events
    FOR EACH ROW EXECUTE FUNCTION og_append_only();
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON summons_actions
    FOR EACH ROW EXECUTE FUNCTION og_append_only();
