-- The database's "now" is the platform's injected clock. Every transaction
-- the platform opens sets app.now (set_config(.., true)) from its clock, and
-- every column that defaulted to the database's wall clock now defaults to
-- og_now(), so a row written while the clock is moved (tests, replays) carries
-- the clock's time, never the day the process happens to run. Outside such a
-- transaction (psql, migrations) og_now() is now().
CREATE FUNCTION og_now() RETURNS timestamptz
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(nullif(current_setting('app.now', true), '')::timestamptz, now()) $$;

DO $$
DECLARE c record;
BEGIN
    FOR c IN
        SELECT table_name, column_name FROM information_schema.columns
         WHERE table_schema = 'public' AND column_default = 'now()'
    LOOP
        EXECUTE format('ALTER TABLE public.%I ALTER COLUMN %I SET DEFAULT og_now()',
                       c.table_name, c.column_name);
    END LOOP;
END
$$;
