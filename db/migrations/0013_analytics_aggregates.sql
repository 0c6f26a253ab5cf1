CREATE TABLE "analytics_counts" (
	"tenant_id" text NOT NULL,
	"analysis" text NOT NULL,
	"grouping" text NOT NULL,
	"month" date NOT NULL,
	"group_key" text NOT NULL,
	"measure" text NOT NULL,
	"bucket" integer NOT NULL,
	"value" bigint NOT NULL,
	CONSTRAINT "analytics_counts_tenant_id_analysis_grouping_month_group_key_measure_bucket_pk" PRIMARY KEY("tenant_id","analysis","grouping","month","group_key","measure","bucket")
);
--> statement-breakpoint
CREATE TABLE "analytics_pending" (
	"tenant_id" text PRIMARY KEY NOT NULL
);
--> statement-breakpoint
CREATE TABLE "analytics_people" (
	"tenant_id" text NOT NULL,
	"analysis" text NOT NULL,
	"grouping" text NOT NULL,
	"month" date NOT NULL,
	"group_key" text NOT NULL,
	"split" text NOT NULL,
	"person_ref" text NOT NULL,
	"value" integer NOT NULL,
	"last_change" integer NOT NULL,
	CONSTRAINT "analytics_people_tenant_id_analysis_grouping_month_group_key_split_person_ref_pk" PRIMARY KEY("tenant_id","analysis","grouping","month","group_key","split","person_ref")
);
--> statement-breakpoint
-- hand-written below
SELECT jl_enable_tenant_isolation(t::regclass) FROM unnest(ARRAY['analytics_counts', 'analytics_people', 'analytics_pending']) AS t;
--> statement-breakpoint
-- Every tenant so far predates the aggregates: the service fills them at its next start (fillPendingAggregates).
INSERT INTO analytics_pending (tenant_id) SELECT tenant_id FROM tenants;
--> statement-breakpoint
SELECT jl_grant_system_access('analytics_pending', 'SELECT');
