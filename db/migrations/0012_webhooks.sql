CREATE TABLE "webhook_attempts" (
	"tenant_id" text NOT NULL,
	"delivery_id" text NOT NULL,
	"attempt" integer NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"duration_ms" integer NOT NULL,
	"status_code" integer,
	"response_body" text NOT NULL,
	"error" text,
	CONSTRAINT "webhook_attempts_tenant_id_delivery_id_attempt_pk" PRIMARY KEY("tenant_id","delivery_id","attempt")
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"tenant_id" text NOT NULL,
	"id" text DEFAULT 'msg_' || replace(gen_random_uuid()::text, '-', '') NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "webhook_deliveries_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"webhook_id" text NOT NULL,
	"event_type" text NOT NULL,
	"event_source" text,
	"event_id" text,
	"payload" jsonb,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT '-infinity' NOT NULL,
	"lease_until" timestamp with time zone,
	"last_status_code" integer,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"succeeded_at" timestamp with time zone,
	CONSTRAINT "webhook_deliveries_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "webhook_notices" (
	"tenant_id" text NOT NULL,
	"promise_id" text NOT NULL,
	"kind" text NOT NULL,
	"due_date" date NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_notices_tenant_id_promise_id_kind_due_date_pk" PRIMARY KEY("tenant_id","promise_id","kind","due_date")
);
--> statement-breakpoint
CREATE TABLE "webhooks" (
	"tenant_id" text NOT NULL,
	"id" text NOT NULL,
	"url" text NOT NULL,
	"description" text,
	"events" text[] NOT NULL,
	"include_personal" boolean DEFAULT false NOT NULL,
	"secret" text NOT NULL,
	"previous_secret" text,
	"previous_secret_until" timestamp with time zone,
	"paused" boolean DEFAULT false NOT NULL,
	"disabled_reason" text,
	"disabled_at" timestamp with time zone,
	"failing_since" timestamp with time zone,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhooks_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE INDEX "webhook_deliveries_webhook" ON "webhook_deliveries" USING btree ("tenant_id","webhook_id","seq");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_due" ON "webhook_deliveries" USING btree ("tenant_id","next_attempt_at") WHERE status = 'pending';--> statement-breakpoint
-- hand-written below
SELECT jl_enable_tenant_isolation(t::regclass)
  FROM unnest(ARRAY['webhooks', 'webhook_deliveries', 'webhook_attempts', 'webhook_notices']) AS t;
--> statement-breakpoint
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO journey_app;
--> statement-breakpoint
-- System work across tenants: finding tenants with due deliveries or listening subscriptions, the
-- outbox backlog for /metrics, and re-sealing signing secrets at a master key rotation.
SELECT jl_grant_system_access('webhooks', 'SELECT, UPDATE');
--> statement-breakpoint
SELECT jl_grant_system_access('webhook_deliveries', 'SELECT');
