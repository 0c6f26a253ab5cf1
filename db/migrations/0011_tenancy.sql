-- hand-written below
-- Fail-closed tenancy. The service's sessions run as journey_app (tenant work, confined by
-- app.tenant_id); system work across tenants runs as journey_system, with a policy and grants of
-- its own on the few tables it must reach; no role but the owner (migrations, VACUUM/ANALYZE) has
-- a policy that sees every row, and the owner's policies are gone: owning a table is no way in.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'journey_system') THEN
    CREATE ROLE journey_system NOLOGIN;
  END IF;
END
$$;
--> statement-breakpoint
GRANT journey_system TO CURRENT_USER;
--> statement-breakpoint
-- SET ROLE checks the session user's memberships: tenant code (journey_app) cannot become journey_system.
REVOKE journey_system FROM journey_app;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO journey_system;
--> statement-breakpoint
DO $$
DECLARE p record;
BEGIN
  FOR p IN SELECT schemaname, tablename FROM pg_policies WHERE policyname = 'system_access' AND schemaname = 'public' LOOP
    EXECUTE format('DROP POLICY system_access ON %I.%I', p.schemaname, p.tablename);
  END LOOP;
END
$$;
--> statement-breakpoint
-- Tables added later get the tenant policy alone; system access is granted table by table below.
CREATE OR REPLACE FUNCTION jl_enable_tenant_isolation(tbl regclass) RETURNS void
  LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO journey_app', tbl);
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
  EXECUTE format(
    'CREATE POLICY tenant_isolation ON %s TO journey_app'
    ' USING (tenant_id = current_setting(''app.tenant_id'', true))'
    ' WITH CHECK (tenant_id = current_setting(''app.tenant_id'', true))', tbl);
END
$$;
--> statement-breakpoint
-- What system work may do on one table (privileges such as 'SELECT, DELETE'), across tenants.
CREATE FUNCTION jl_grant_system_access(tbl regclass, privileges text) RETURNS void
  LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('GRANT %s ON %s TO journey_system', privileges, tbl);
  EXECUTE format('CREATE POLICY system_access ON %s TO journey_system USING (true) WITH CHECK (true)', tbl);
END
$$;
--> statement-breakpoint
-- Tenant lists (bootstrap, rebuild, retention sweep); the work itself runs per tenant, as journey_app.
SELECT jl_grant_system_access('tenants', 'SELECT');
--> statement-breakpoint
-- The master key check at start-up, and its rotation with every data key in one transaction.
SELECT jl_grant_system_access('master_key_check', 'SELECT, INSERT, UPDATE');
--> statement-breakpoint
SELECT jl_grant_system_access('person_keys', 'SELECT, UPDATE');
--> statement-breakpoint
-- Expiry of Idempotency-Key records, and their end at a master key rotation.
SELECT jl_grant_system_access('idempotency_keys', 'SELECT, DELETE');
--> statement-breakpoint
-- Readiness counts the applied migrations; the journal holds no tenant data.
GRANT USAGE ON SCHEMA drizzle TO journey_app;
--> statement-breakpoint
GRANT SELECT ON drizzle.__drizzle_migrations TO journey_app;
