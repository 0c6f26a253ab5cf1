-- Tenant isolation underneath the application's own checks. Requests run as journey_app
-- (SET LOCAL ROLE) with app.tenant_id set per transaction; a query that forgets its tenant
-- filter still sees only that tenant's rows. The migrating role keeps an explicit policy for
-- system work that spans tenants (start-up bootstrap, projection rebuilds, outbox workers).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'journey_app') THEN
    CREATE ROLE journey_app NOLOGIN;
  END IF;
END
$$;
--> statement-breakpoint
GRANT journey_app TO CURRENT_USER;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO journey_app;
--> statement-breakpoint
CREATE FUNCTION jl_iso(ts timestamptz) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
--> statement-breakpoint
CREATE FUNCTION jl_enable_tenant_isolation(tbl regclass) RETURNS void
  LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO journey_app', tbl);
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
  EXECUTE format(
    'CREATE POLICY tenant_isolation ON %s TO journey_app'
    ' USING (tenant_id = current_setting(''app.tenant_id'', true))'
    ' WITH CHECK (tenant_id = current_setting(''app.tenant_id'', true))', tbl);
  EXECUTE format('CREATE POLICY system_access ON %s TO %I USING (true) WITH CHECK (true)', tbl, current_user);
END
$$;
--> statement-breakpoint
SELECT jl_enable_tenant_isolation(t::regclass)
  FROM unnest(ARRAY['tenants', 'api_keys', 'streams', 'events', 'journeys', 'vacancies', 'promises', 'idempotency_keys']) AS t;
--> statement-breakpoint
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO journey_app;
--> statement-breakpoint
-- The ledger is append-only for requests: rows are never updated or deleted by tenant code.
REVOKE UPDATE, DELETE ON events FROM journey_app;
