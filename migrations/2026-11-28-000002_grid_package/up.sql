-- The grid package (社区综治网格包): the registry of buildings, units,
-- dwellings, households and residents; typed ledgers defined as data; the
-- append-only audit log; break-the-glass grants. Sensitive values (ID numbers,
-- phones) are stored only as ciphertext bound to the row and street, with a
-- keyed hash scoped by street for exact lookup.

CREATE TABLE buildings (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    grid_id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    address text CHECK (length(address) <= 200),
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (street_id, id),
    UNIQUE (street_id, grid_id, name),
    FOREIGN KEY (street_id, grid_id) REFERENCES grids (street_id, id)
);

CREATE TABLE units (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    building_id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (street_id, id),
    UNIQUE (street_id, building_id, name),
    FOREIGN KEY (street_id, building_id) REFERENCES buildings (street_id, id)
);

CREATE TABLE dwellings (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    unit_id uuid NOT NULL,
    grid_id uuid NOT NULL,
    number text NOT NULL CHECK (length(number) BETWEEN 1 AND 40),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (street_id, id),
    UNIQUE (street_id, unit_id, number),
    FOREIGN KEY (street_id, unit_id) REFERENCES units (street_id, id),
    FOREIGN KEY (street_id, grid_id) REFERENCES grids (street_id, id)
);

CREATE TABLE households (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    grid_id uuid NOT NULL,
    dwelling_id uuid,
    address text CHECK (length(address) <= 200),
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (street_id, id),
    FOREIGN KEY (street_id, grid_id) REFERENCES grids (street_id, id),
    FOREIGN KEY (street_id, dwelling_id) REFERENCES dwellings (street_id, id)
);
CREATE INDEX households_grid ON households (street_id, grid_id, id);

CREATE TABLE residents (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    grid_id uuid NOT NULL,
    household_id uuid,
    -- 与户主关系: head, spouse, child, parent, grandchild, sibling, other.
    relation text CHECK (relation IN ('head', 'spouse', 'child', 'parent', 'grandchild', 'sibling', 'other')),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    gender text CHECK (gender IN ('male', 'female')),
    birth_date date,
    -- AES-256-GCM ciphertext (key id, nonce, ciphertext) bound to (street, row, column).
    id_number_enc bytea,
    -- HMAC-SHA256 of the normalised value keyed per street: exact lookup only.
    id_number_bidx bytea,
    phone_enc bytea,
    phone_bidx bytea,
    tags text[] NOT NULL DEFAULT '{}',
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (street_id, id),
    UNIQUE (street_id, id_number_bidx),
    CHECK ((id_number_enc IS NULL) = (id_number_bidx IS NULL)),
    CHECK ((phone_enc IS NULL) = (phone_bidx IS NULL)),
    FOREIGN KEY (street_id, grid_id) REFERENCES grids (street_id, id),
    FOREIGN KEY (street_id, household_id) REFERENCES households (street_id, id)
);
CREATE INDEX residents_grid ON residents (street_id, grid_id, id);
CREATE INDEX residents_household ON residents (street_id, household_id);
CREATE INDEX residents_phone ON residents (street_id, phone_bidx);

-- A resident's moves between grids; the history is the record.
CREATE TABLE resident_moves (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    resident_id uuid NOT NULL,
    from_grid_id uuid NOT NULL,
    to_grid_id uuid NOT NULL,
    reason text CHECK (length(reason) <= 200),
    moved_by uuid NOT NULL REFERENCES users (id),
    moved_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (street_id, id),
    FOREIGN KEY (street_id, resident_id) REFERENCES residents (street_id, id),
    FOREIGN KEY (street_id, from_grid_id) REFERENCES grids (street_id, id),
    FOREIGN KEY (street_id, to_grid_id) REFERENCES grids (street_id, id)
);
CREATE INDEX resident_moves_resident ON resident_moves (street_id, resident_id);

-- Ledger types: built in per district (street_id NULL) or added by a street or
-- community (owner scope) through the API.
CREATE TABLE ledger_types (
    id uuid PRIMARY KEY,
    district_id uuid NOT NULL REFERENCES districts (id),
    street_id uuid REFERENCES streets (id),
    community_id uuid,
    code text NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{1,39}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description text CHECK (length(description) <= 1000),
    subject text NOT NULL CHECK (subject IN ('resident', 'household', 'none')),
    sensitivity text NOT NULL CHECK (sensitivity IN ('open', 'audited', 'protected', 'closed')),
    mask_name boolean NOT NULL DEFAULT false,
    verify_period_days integer NOT NULL DEFAULT 180 CHECK (verify_period_days BETWEEN 1 AND 3650),
    fields jsonb NOT NULL,
    built_in boolean NOT NULL DEFAULT false,
    active boolean NOT NULL DEFAULT true,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (street_id, community_id) REFERENCES communities (street_id, id)
);
-- A code is unique among the types one caller can see: district-wide ones and
-- those of one street.
CREATE UNIQUE INDEX ledger_types_code ON ledger_types (district_id, coalesce(street_id, '00000000-0000-0000-0000-000000000000'::uuid), code);

CREATE TABLE ledger_records (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    ledger_type_id uuid NOT NULL REFERENCES ledger_types (id),
    grid_id uuid NOT NULL,
    resident_id uuid,
    household_id uuid,
    data jsonb NOT NULL,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired')),
    retired_reason text CHECK (length(retired_reason) <= 200),
    verified_at timestamptz NOT NULL DEFAULT now(),
    verified_by uuid REFERENCES users (id),
    version integer NOT NULL DEFAULT 1,
    created_by uuid REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (street_id, id),
    CHECK ((status = 'retired') = (retired_reason IS NOT NULL)),
    FOREIGN KEY (street_id, grid_id) REFERENCES grids (street_id, id),
    FOREIGN KEY (street_id, resident_id) REFERENCES residents (street_id, id),
    FOREIGN KEY (street_id, household_id) REFERENCES households (street_id, id)
);
CREATE INDEX ledger_records_type_grid ON ledger_records (street_id, ledger_type_id, grid_id, id);
CREATE INDEX ledger_records_resident ON ledger_records (street_id, resident_id, ledger_type_id);

-- Every state of a record, with who made it and when.
CREATE TABLE ledger_record_versions (
    street_id uuid NOT NULL,
    record_id uuid NOT NULL,
    version integer NOT NULL,
    change text NOT NULL CHECK (change IN ('created', 'edited', 'verified', 'retired', 'restored', 'moved')),
    data jsonb NOT NULL,
    status text NOT NULL,
    retired_reason text,
    grid_id uuid NOT NULL,
    actor_id uuid NOT NULL REFERENCES users (id),
    at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (street_id, record_id, version),
    FOREIGN KEY (street_id, record_id) REFERENCES ledger_records (street_id, id)
);

-- 破窗: a time-limited, reason-bound grant to read one protected ledger type in one community.
CREATE TABLE break_glass_grants (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES users (id),
    ledger_type_id uuid NOT NULL REFERENCES ledger_types (id),
    community_id uuid NOT NULL,
    reason text NOT NULL CHECK (length(reason) BETWEEN 5 AND 500),
    granted_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (street_id, id),
    CHECK (expires_at > granted_at),
    FOREIGN KEY (street_id, community_id) REFERENCES communities (street_id, id)
);
CREATE INDEX break_glass_user ON break_glass_grants (street_id, user_id, ledger_type_id, expires_at);

-- Targeting queries saved for reuse by the staff of a street (or the district).
CREATE TABLE saved_queries (
    id uuid PRIMARY KEY,
    district_id uuid NOT NULL REFERENCES districts (id),
    street_id uuid REFERENCES streets (id),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    query jsonb NOT NULL,
    created_by uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- A user's inbox (delivery target of notifications; read state per user).
CREATE TABLE notifications (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id),
    district_id uuid NOT NULL REFERENCES districts (id),
    street_id uuid REFERENCES streets (id),
    kind text NOT NULL,
    title text NOT NULL,
    body jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at timestamptz
);
CREATE INDEX notifications_user ON notifications (user_id, id);

-- The audit log: append-only for everyone, at the database level.
CREATE TABLE audit_log (
    id uuid PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    district_id uuid NOT NULL REFERENCES districts (id),
    street_id uuid REFERENCES streets (id),
    actor_id uuid NOT NULL,
    actor_kind text NOT NULL CHECK (actor_kind IN ('user', 'api_key')),
    action text NOT NULL,
    subject_type text NOT NULL,
    subject_id uuid,
    field text,
    purpose text,
    request_id text,
    details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_street_at ON audit_log (district_id, street_id, at);
CREATE INDEX audit_log_subject ON audit_log (subject_id);

CREATE FUNCTION og_audit_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION og_audit_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION og_audit_append_only();

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['buildings', 'units', 'dwellings', 'households', 'residents', 'resident_moves',
        'ledger_types', 'ledger_records', 'ledger_record_versions', 'break_glass_grants', 'notifications', 'audit_log',
        'saved_queries']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    END LOOP;
END
$$;

CREATE POLICY wall ON buildings USING (street_id = ANY (og_streets()));
CREATE POLICY wall ON units USING (street_id = ANY (og_streets()));
CREATE POLICY wall ON dwellings USING (street_id = ANY (og_streets()));
CREATE POLICY wall ON households USING (street_id = ANY (og_streets()));
CREATE POLICY wall ON residents USING (street_id = ANY (og_streets()));
CREATE POLICY wall ON resident_moves USING (street_id = ANY (og_streets()));
CREATE POLICY wall ON ledger_types
    USING (district_id = og_district() AND (street_id IS NULL OR street_id = ANY (og_streets())));
CREATE POLICY wall ON ledger_records USING (street_id = ANY (og_streets()));
CREATE POLICY wall ON ledger_record_versions USING (street_id = ANY (og_streets()));
CREATE POLICY wall ON break_glass_grants USING (street_id = ANY (og_streets()));
CREATE POLICY wall ON notifications USING (user_id = og_user() OR (district_id = og_district() AND street_id = ANY (og_streets())));
CREATE POLICY wall ON saved_queries
    USING (district_id = og_district() AND (street_id IS NULL OR street_id = ANY (og_streets())));
CREATE POLICY wall ON audit_log
    USING (district_id = og_district() AND (street_id IS NULL OR street_id = ANY (og_streets())));

GRANT SELECT, INSERT, UPDATE ON buildings, units, dwellings, households, residents, ledger_types, ledger_records,
    notifications TO onegrid_app;
GRANT SELECT, INSERT ON saved_queries, resident_moves, ledger_record_versions, break_glass_grants, audit_log TO onegrid_app;
