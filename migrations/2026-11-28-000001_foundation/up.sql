-- OneGrid foundation: hierarchy, departments, staff, roles, sessions, API keys,
-- idempotency records, and the tenant wall (row-level security keyed on
-- per-transaction settings). Migrations run as the owner; the API and worker
-- connect as `onegrid_app`, which owns nothing and cannot bypass RLS.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'onegrid_app') THEN
        CREATE ROLE onegrid_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
END
$$;

-- Scope settings, set with set_config(.., true) inside each transaction.
-- An unset or reset setting reads as '' and yields no rows, never an error.
CREATE FUNCTION og_setting_uuid(name text) RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting(name, true), '')::uuid $$;
CREATE FUNCTION og_district() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT og_setting_uuid('app.district_id') $$;
CREATE FUNCTION og_user() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT og_setting_uuid('app.user_id') $$;
CREATE FUNCTION og_session() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT og_setting_uuid('app.session_id') $$;
CREATE FUNCTION og_api_key() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT og_setting_uuid('app.api_key_id') $$;
CREATE FUNCTION og_principal() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT og_setting_uuid('app.principal_id') $$;
CREATE FUNCTION og_district_wide() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(current_setting('app.district_wide', true), '') = 'on' $$;
CREATE FUNCTION og_streets() RETURNS uuid[]
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(string_to_array(nullif(current_setting('app.street_ids', true), ''), ',')::uuid[], '{}'::uuid[]) $$;

CREATE TABLE districts (
    id uuid PRIMARY KEY,
    code text NOT NULL UNIQUE CHECK (code ~ '^[0-9]{6}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE streets (
    id uuid PRIMARY KEY,
    district_id uuid NOT NULL REFERENCES districts (id),
    code text NOT NULL UNIQUE CHECK (code ~ '^[0-9]{9}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX streets_district ON streets (district_id, id);

CREATE TABLE communities (
    street_id uuid NOT NULL REFERENCES streets (id),
    id uuid NOT NULL,
    code text NOT NULL CHECK (code ~ '^[0-9]{12}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (street_id, id),
    UNIQUE (street_id, code)
);

CREATE TABLE grids (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    community_id uuid NOT NULL,
    code text NOT NULL CHECK (code ~ '^[0-9]{15}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    target_households integer CHECK (target_households BETWEEN 1 AND 100000),
    boundary jsonb,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (street_id, id),
    UNIQUE (street_id, code),
    FOREIGN KEY (street_id, community_id) REFERENCES communities (street_id, id)
);
CREATE INDEX grids_community ON grids (street_id, community_id, id);

-- 部门: departments belong to the district and see only what is routed to them.
CREATE TABLE departments (
    id uuid PRIMARY KEY,
    district_id uuid NOT NULL REFERENCES districts (id),
    code text NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{1,39}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    active boolean NOT NULL DEFAULT true,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (district_id, code),
    UNIQUE (district_id, id)
);

-- Staff accounts. `street_id` is the home street; NULL for district staff.
CREATE TABLE users (
    id uuid PRIMARY KEY,
    district_id uuid NOT NULL REFERENCES districts (id),
    street_id uuid REFERENCES streets (id),
    username text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
    display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    password_hash text NOT NULL,
    disabled boolean NOT NULL DEFAULT false,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_street ON users (district_id, street_id, id);

CREATE TABLE role_assignments (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id),
    district_id uuid NOT NULL REFERENCES districts (id),
    role text NOT NULL CHECK (role IN ('district_admin', 'street_admin', 'community_admin',
        'grid_chief', 'grid_worker', 'department_staff', 'auditor')),
    scope_kind text NOT NULL CHECK (scope_kind IN ('district', 'street', 'community', 'grid', 'department')),
    street_id uuid REFERENCES streets (id),
    community_id uuid,
    grid_id uuid,
    department_id uuid,
    valid_from date NOT NULL,
    valid_to date,
    created_by uuid REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- An empty window (valid_to = valid_from - 1) records an assignment ended before it began.
    CHECK (valid_to IS NULL OR valid_to >= valid_from - 1),
    CHECK (CASE scope_kind
        WHEN 'district' THEN street_id IS NULL AND community_id IS NULL AND grid_id IS NULL AND department_id IS NULL
        WHEN 'street' THEN street_id IS NOT NULL AND community_id IS NULL AND grid_id IS NULL AND department_id IS NULL
        WHEN 'community' THEN street_id IS NOT NULL AND community_id IS NOT NULL AND grid_id IS NULL AND department_id IS NULL
        WHEN 'grid' THEN street_id IS NOT NULL AND community_id IS NOT NULL AND grid_id IS NOT NULL AND department_id IS NULL
        WHEN 'department' THEN street_id IS NULL AND community_id IS NULL AND grid_id IS NULL AND department_id IS NOT NULL
    END),
    FOREIGN KEY (street_id, community_id) REFERENCES communities (street_id, id),
    FOREIGN KEY (street_id, grid_id) REFERENCES grids (street_id, id),
    FOREIGN KEY (district_id, department_id) REFERENCES departments (district_id, id)
);
CREATE INDEX role_assignments_user ON role_assignments (user_id);

-- 一格三员: dated staffing of a grid by kind.
CREATE TABLE grid_assignments (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    grid_id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES users (id),
    kind text NOT NULL CHECK (kind IN ('full_time', 'part_time', 'department')),
    district_id uuid NOT NULL,
    department_id uuid,
    duty text CHECK (length(duty) <= 100),
    valid_from date NOT NULL,
    valid_to date,
    created_by uuid REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (street_id, id),
    -- An empty window (valid_to = valid_from - 1) records an assignment ended before it began.
    CHECK (valid_to IS NULL OR valid_to >= valid_from - 1),
    CHECK ((kind = 'department') = (department_id IS NOT NULL)),
    FOREIGN KEY (street_id, grid_id) REFERENCES grids (street_id, id),
    FOREIGN KEY (district_id, department_id) REFERENCES departments (district_id, id)
);
CREATE INDEX grid_assignments_grid ON grid_assignments (street_id, grid_id);
CREATE INDEX grid_assignments_user ON grid_assignments (user_id);

-- A login session; its refresh tokens rotate, and reuse of a spent one revokes it.
CREATE TABLE sessions (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    revoked_reason text
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE refresh_tokens (
    token_hash bytea PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES sessions (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at timestamptz
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Machine clients: a key acts with one role in one scope; only its hash is kept.
CREATE TABLE api_keys (
    id uuid PRIMARY KEY,
    district_id uuid NOT NULL REFERENCES districts (id),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    role text NOT NULL,
    scope_kind text NOT NULL,
    street_id uuid REFERENCES streets (id),
    community_id uuid,
    grid_id uuid,
    department_id uuid,
    secret_hash bytea NOT NULL,
    created_by uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    revoked_at timestamptz,
    FOREIGN KEY (street_id, community_id) REFERENCES communities (street_id, id),
    FOREIGN KEY (street_id, grid_id) REFERENCES grids (street_id, id),
    FOREIGN KEY (district_id, department_id) REFERENCES departments (district_id, id)
);

-- Stored responses of creates made under an Idempotency-Key, per principal.
CREATE TABLE idempotency_keys (
    principal_id uuid NOT NULL,
    key text NOT NULL,
    request_hash bytea NOT NULL,
    status smallint NOT NULL,
    response jsonb NOT NULL,
    location text,
    etag text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal_id, key)
);

-- Login looks a user up before any scope exists; this is the one door for it.
CREATE FUNCTION og_login_lookup(p_username text)
    RETURNS TABLE (user_id uuid, district_id uuid, password_hash text, disabled boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT id, district_id, password_hash, disabled FROM users WHERE username = lower(p_username) $$;
REVOKE ALL ON FUNCTION og_login_lookup(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION og_login_lookup(text) TO onegrid_app;

-- The tenant wall.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['districts', 'streets', 'communities', 'grids', 'departments', 'users',
        'role_assignments', 'grid_assignments', 'sessions', 'refresh_tokens', 'api_keys', 'idempotency_keys']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    END LOOP;
END
$$;

CREATE POLICY wall ON districts USING (id = og_district());
CREATE POLICY wall ON streets
    USING (id = ANY (og_streets()) OR (og_district_wide() AND district_id = og_district()));
CREATE POLICY wall ON communities USING (street_id = ANY (og_streets()));
CREATE POLICY wall ON grids USING (street_id = ANY (og_streets()));
CREATE POLICY wall ON grid_assignments USING (street_id = ANY (og_streets()));
CREATE POLICY wall ON departments USING (district_id = og_district());
CREATE POLICY wall ON users
    USING (id = og_user() OR (district_id = og_district() AND (street_id IS NULL OR street_id = ANY (og_streets()))));
CREATE POLICY wall ON role_assignments
    USING (user_id = og_user() OR (district_id = og_district() AND (street_id IS NULL OR street_id = ANY (og_streets()))));
CREATE POLICY wall ON sessions
    USING (id = og_session() OR user_id = og_user() OR EXISTS (SELECT 1 FROM users u WHERE u.id = sessions.user_id));
CREATE POLICY wall ON refresh_tokens
    USING (session_id = og_session() OR EXISTS (SELECT 1 FROM sessions s WHERE s.id = refresh_tokens.session_id));
CREATE POLICY wall ON api_keys
    USING (id = og_api_key() OR (district_id = og_district() AND (street_id IS NULL OR street_id = ANY (og_streets()))));
CREATE POLICY wall ON idempotency_keys USING (principal_id = og_principal());

GRANT SELECT ON districts TO onegrid_app;
GRANT SELECT, INSERT, UPDATE ON streets, communities, grids, departments, users, role_assignments,
    grid_assignments, sessions, refresh_tokens, api_keys TO onegrid_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO onegrid_app;
