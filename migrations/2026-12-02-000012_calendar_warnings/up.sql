-- From 1 December a district whose calendar lacks next year is warned once:
-- one row per district and year records that its admins were told.
CREATE TABLE calendar_warnings (
    district_id uuid NOT NULL REFERENCES districts (id),
    year integer NOT NULL,
    warned_at timestamptz NOT NULL,
    PRIMARY KEY (district_id, year)
);
ALTER TABLE calendar_warnings ENABLE ROW LEVEL SECURITY;
ALTER TABLE calendar_warnings FORCE ROW LEVEL SECURITY;
CREATE POLICY wall ON calendar_warnings USING (district_id = og_district());
GRANT SELECT, INSERT ON calendar_warnings TO onegrid_app;

-- District-level notices (no street) are written by the worker for the
-- district it is scoped to; their users read them as their own.
CREATE POLICY district_notices ON notifications
    USING (og_worker() AND street_id IS NULL AND district_id = og_district());

-- Readiness reports, without a tenant scope, which districts lack a year.
CREATE FUNCTION og_calendar_missing(p_year integer)
    RETURNS TABLE (district_code text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        SELECT d.code FROM districts d
        WHERE NOT EXISTS (
            SELECT 1 FROM calendar_days c
            WHERE c.district_id = d.id
              AND c.day BETWEEN make_date(p_year, 1, 1) AND make_date(p_year, 12, 31))
        ORDER BY d.code
    $$;
REVOKE ALL ON FUNCTION og_calendar_missing(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION og_calendar_missing(integer) TO onegrid_app;
