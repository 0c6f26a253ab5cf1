-- Every table is shared by all tenants and indexed by tenant first. Between two ANALYZEs a tenant
-- that grew (a new one importing its history) looks like a handful of rows to the planner, which
-- then scans the whole tenant through any index that leads with tenant_id instead of the unique
-- index that finds one row. By default autovacuum re-analyzes only after 10 % of a table changed
-- (190 000 events on a ledger of 1.9 million); analyze after every 5 000 changed rows instead. An
-- ANALYZE reads a fixed-size sample, so its cost does not grow with the table.
ALTER TABLE "events" SET (autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 5000);--> statement-breakpoint
ALTER TABLE "streams" SET (autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 5000);--> statement-breakpoint
ALTER TABLE "journeys" SET (autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 5000);--> statement-breakpoint
ALTER TABLE "promises" SET (autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 5000);--> statement-breakpoint
ALTER TABLE "person_keys" SET (autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 5000);
