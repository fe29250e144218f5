-- The API reads and never writes: a group role with SELECT on every table, now and to come. Give
-- the API's login role membership (CREATE ROLE tickwire_api LOGIN PASSWORD '...' IN ROLE
-- tickwire_reader). The sink's own role owns the schema (it runs these migrations). Roles are
-- cluster-wide: without the right to create one, the migration says so and goes on.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tickwire_reader') THEN
        BEGIN
            CREATE ROLE tickwire_reader NOLOGIN;
        EXCEPTION
            WHEN duplicate_object THEN NULL;  -- another database's migration made it meanwhile
            WHEN insufficient_privilege THEN
                RAISE NOTICE 'cannot create role tickwire_reader (no CREATEROLE); create it and '
                    'rerun the sink, or grant SELECT to the API''s role yourself';
        END;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'tickwire_reader') THEN
        GRANT USAGE ON SCHEMA public TO tickwire_reader;
        GRANT SELECT ON ALL TABLES IN SCHEMA public TO tickwire_reader;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO tickwire_reader;
    END IF;
END
$$;
