-- Webhooks for integrators (Standard Webhooks): endpoints registered for
-- the district or one street; events written in the same transaction as
-- the change they describe; one delivery per (endpoint, event), attempted
-- on the retry schedule, every attempt logged.

CREATE TABLE webhook_endpoints (
    id uuid PRIMARY KEY,
    district_id uuid NOT NULL REFERENCES districts (id),
    -- NULL: the whole district.
    street_id uuid REFERENCES streets (id),
    url text NOT NULL CHECK (length(url) BETWEEN 8 AND 2000),
    description text CHECK (length(description) <= 200),
    -- Empty: every type.
    event_types text[] NOT NULL DEFAULT '{}',
    -- The signing secret, sealed with the field keys (bound to this row).
    secret_sealed bytea NOT NULL,
    -- The secret a rotation replaced, still signing until it expires.
    previous_secret_sealed bytea,
    previous_secret_expires_at timestamptz,
    enabled boolean NOT NULL DEFAULT true,
    disabled_reason text CHECK (length(disabled_reason) <= 200),
    -- Since when every attempt has failed (cleared by a success).
    failing_since timestamptz,
    version integer NOT NULL DEFAULT 1,
    created_by uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CHECK ((previous_secret_sealed IS NULL) = (previous_secret_expires_at IS NULL))
);
CREATE INDEX webhook_endpoints_district ON webhook_endpoints (district_id, street_id) WHERE enabled;

CREATE TABLE webhook_events (
    id uuid PRIMARY KEY,
    district_id uuid NOT NULL REFERENCES districts (id),
    street_id uuid NOT NULL REFERENCES streets (id),
    type text NOT NULL CHECK (type ~ '^[a-z]+\.[a-z_]+$'),
    -- Ids, codes, states and times only: never a personal field.
    payload jsonb NOT NULL,
    occurred_at timestamptz NOT NULL
);

CREATE TABLE webhook_deliveries (
    id uuid PRIMARY KEY,
    endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id),
    event_id uuid NOT NULL REFERENCES webhook_events (id),
    district_id uuid NOT NULL REFERENCES districts (id),
    street_id uuid NOT NULL REFERENCES streets (id),
    state text NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    -- Each replay starts a new round of attempts under a new job key.
    replays integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    last_status smallint,
    last_error text,
    delivered_at timestamptz,
    created_at timestamptz NOT NULL,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

CREATE TABLE webhook_attempts (
    id uuid PRIMARY KEY,
    delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id),
    attempt integer NOT NULL,
    at timestamptz NOT NULL,
    status smallint,
    duration_ms integer NOT NULL,
    error text CHECK (length(error) <= 500),
    -- The start of the receiver's answer, for the log.
    response text CHECK (length(response) <= 1000),
    UNIQUE (delivery_id, attempt)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['webhook_endpoints', 'webhook_events', 'webhook_deliveries', 'webhook_attempts']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    END LOOP;
END
$$;

-- Endpoints: the district's admins see the district's; a street's admins
-- see their street's (district-wide ones are the district's business).
CREATE POLICY wall ON webhook_endpoints
    USING (og_worker() OR (district_id = og_district()
        AND ((street_id IS NULL AND og_district_wide()) OR street_id = ANY (og_streets()))))
    WITH CHECK (og_worker() OR (district_id = og_district()
        AND ((street_id IS NULL AND og_district_wide()) OR street_id = ANY (og_streets()))));
-- Events are written inside the street whose change they describe.
CREATE POLICY wall ON webhook_events
    USING (og_worker() OR (district_id = og_district() AND street_id = ANY (og_streets())))
    WITH CHECK (og_worker() OR (district_id = og_district() AND street_id = ANY (og_streets())));
-- Deliveries and attempts are visible with their endpoint.
CREATE POLICY wall ON webhook_deliveries
    USING (og_worker() OR EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = webhook_deliveries.endpoint_id))
    WITH CHECK (og_worker() OR EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = webhook_deliveries.endpoint_id));
CREATE POLICY wall ON webhook_attempts
    USING (og_worker() OR EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.id = webhook_attempts.delivery_id))
    WITH CHECK (og_worker());

GRANT SELECT, INSERT, UPDATE ON webhook_endpoints, webhook_deliveries TO onegrid_app;
GRANT SELECT, INSERT ON webhook_events, webhook_attempts TO onegrid_app;
