DO $$
DECLARE c record;
BEGIN
    FOR c IN
        SELECT table_name, column_name FROM information_schema.columns
         WHERE table_schema = 'public' AND column_default = 'og_now()'
    LOOP
        EXECUTE format('ALTER TABLE public.%I ALTER COLUMN %I SET DEFAULT now()',
                       c.table_name, c.column_name);
    END LOOP;
END
$$;
DROP FUNCTION og_now();
