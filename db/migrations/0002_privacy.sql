CREATE TABLE "audit" (
	"tenant_id" text NOT NULL,
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "audit_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"target_type" text NOT NULL,
	"target_id" text NOT NULL,
	"details" jsonb NOT NULL,
	CONSTRAINT "audit_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "master_key_check" (
	"tenant_id" text NOT NULL,
	"verifier" text NOT NULL,
	"fingerprint" text NOT NULL,
	CONSTRAINT "master_key_check_tenant_id_pk" PRIMARY KEY("tenant_id")
);
--> statement-breakpoint
CREATE TABLE "person_keys" (
	"tenant_id" text NOT NULL,
	"person_id" text NOT NULL,
	"wrapped_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"erased_at" timestamp with time zone,
	"erased_reason" text,
	CONSTRAINT "person_keys_tenant_id_person_id_pk" PRIMARY KEY("tenant_id","person_id")
);
--> statement-breakpoint
ALTER TABLE "idempotency_keys" ALTER COLUMN "response" SET DATA TYPE text;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "sealed" text;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD COLUMN "person_id" text;--> statement-breakpoint
ALTER TABLE "promises" ADD COLUMN "text_source" text;--> statement-breakpoint
ALTER TABLE "promises" ADD COLUMN "text_event_id" text;--> statement-breakpoint
ALTER TABLE "promises" DROP COLUMN "text";--> statement-breakpoint
SELECT jl_enable_tenant_isolation(t::regclass) FROM unnest(ARRAY['person_keys', 'audit']) AS t;
--> statement-breakpoint
-- The audit trail is append-only for requests.
REVOKE UPDATE, DELETE ON audit FROM journey_app;
--> statement-breakpoint
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO journey_app;
--> statement-breakpoint
-- The master key check is the service's own: no tenant request reads or writes it.
ALTER TABLE master_key_check ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE master_key_check FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY system_access ON master_key_check TO CURRENT_USER USING (true) WITH CHECK (true);
