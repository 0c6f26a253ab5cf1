CREATE TABLE "api_keys" (
	"tenant_id" text NOT NULL,
	"id" text NOT NULL,
	"name" text NOT NULL,
	"scopes" text[] NOT NULL,
	"key_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "events" (
	"tenant_id" text NOT NULL,
	"position" bigint GENERATED ALWAYS AS IDENTITY (sequence name "events_position_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"tx_id" "xid8" DEFAULT pg_current_xact_id() NOT NULL,
	"stream_kind" text NOT NULL,
	"subject" text NOT NULL,
	"version" integer NOT NULL,
	"id" text NOT NULL,
	"source" text NOT NULL,
	"type" text NOT NULL,
	"time" timestamp with time zone NOT NULL,
	"data" jsonb NOT NULL,
	"person_id" text,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "events_tenant_id_position_pk" PRIMARY KEY("tenant_id","position")
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"tenant_id" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"status_code" integer,
	"response" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "idempotency_keys_tenant_id_key_pk" PRIMARY KEY("tenant_id","key")
);
--> statement-breakpoint
CREATE TABLE "journeys" (
	"tenant_id" text NOT NULL,
	"id" text NOT NULL,
	"person_id" text NOT NULL,
	"vacancy_id" text,
	"stage" text NOT NULL,
	"stage_since" timestamp with time zone NOT NULL,
	"role" text,
	"department" text,
	"manager" text,
	"start_date" date,
	"hired_at" timestamp with time zone,
	"exited_at" timestamp with time zone,
	"last_day" date,
	"exit_kind" text,
	"regrettable" boolean,
	"version" integer NOT NULL,
	"stages" jsonb NOT NULL,
	"experience" jsonb NOT NULL,
	"signals" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "journeys_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "promises" (
	"tenant_id" text NOT NULL,
	"id" text NOT NULL,
	"journey_id" text NOT NULL,
	"category" text NOT NULL,
	"text" text NOT NULL,
	"made_by" text NOT NULL,
	"made_at" text,
	"kind" text,
	"made_time" timestamp with time zone NOT NULL,
	"due_by" date,
	"due_after_start_days" integer,
	"due_date" date,
	"due_key" date NOT NULL,
	"outcome" text NOT NULL,
	"closed_at" timestamp with time zone,
	"broken_cause" text,
	"renegotiations" integer NOT NULL,
	"last_renegotiation_agreed" boolean,
	"assessed_fulfilled" integer,
	"assessed_at" timestamp with time zone,
	"inherited_from" jsonb,
	"history" jsonb NOT NULL,
	CONSTRAINT "promises_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "streams" (
	"tenant_id" text NOT NULL,
	"kind" text NOT NULL,
	"id" text NOT NULL,
	"version" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "streams_tenant_id_kind_id_pk" PRIMARY KEY("tenant_id","kind","id")
);
--> statement-breakpoint
CREATE TABLE "tenants" (
	"tenant_id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vacancies" (
	"tenant_id" text NOT NULL,
	"id" text NOT NULL,
	"title" text NOT NULL,
	"department" text,
	"published_by" text NOT NULL,
	"open" boolean NOT NULL,
	"promises" jsonb NOT NULL,
	"published_at" timestamp with time zone NOT NULL,
	"closed_at" timestamp with time zone,
	"version" integer NOT NULL,
	CONSTRAINT "vacancies_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_hash" ON "api_keys" USING btree ("tenant_id","key_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "events_source_id" ON "events" USING btree ("tenant_id","source","id");--> statement-breakpoint
CREATE UNIQUE INDEX "events_stream_version" ON "events" USING btree ("tenant_id","stream_kind","subject","version");--> statement-breakpoint
CREATE INDEX "events_feed" ON "events" USING btree ("tenant_id","tx_id","position");--> statement-breakpoint
CREATE INDEX "events_person" ON "events" USING btree ("tenant_id","person_id");--> statement-breakpoint
CREATE INDEX "idempotency_keys_created" ON "idempotency_keys" USING btree ("tenant_id","created_at");--> statement-breakpoint
CREATE INDEX "journeys_stage" ON "journeys" USING btree ("tenant_id","stage","id");--> statement-breakpoint
CREATE INDEX "journeys_department" ON "journeys" USING btree ("tenant_id","department","id");--> statement-breakpoint
CREATE INDEX "journeys_person" ON "journeys" USING btree ("tenant_id","person_id","id");--> statement-breakpoint
CREATE INDEX "journeys_vacancy" ON "journeys" USING btree ("tenant_id","vacancy_id","id");--> statement-breakpoint
CREATE INDEX "journeys_manager" ON "journeys" USING btree ("tenant_id","manager","id");--> statement-breakpoint
CREATE INDEX "promises_outcome_due" ON "promises" USING btree ("tenant_id","outcome","due_key","id");--> statement-breakpoint
CREATE INDEX "promises_journey" ON "promises" USING btree ("tenant_id","journey_id");--> statement-breakpoint
CREATE INDEX "promises_made_by" ON "promises" USING btree ("tenant_id","made_by","due_key","id");--> statement-breakpoint
CREATE INDEX "promises_category" ON "promises" USING btree ("tenant_id","category","due_key","id");