CREATE TABLE "erased_people" (
	"tenant_id" text NOT NULL,
	"id_hash" text NOT NULL,
	"erased_at" timestamp with time zone DEFAULT now() NOT NULL,
	"reason" text NOT NULL,
	CONSTRAINT "erased_people_tenant_id_id_hash_pk" PRIMARY KEY("tenant_id","id_hash")
);
--> statement-breakpoint
ALTER TABLE "journeys" ALTER COLUMN "person_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "person_ref" text;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD COLUMN "person_ref" text;--> statement-breakpoint
ALTER TABLE "journeys" ADD COLUMN "person_ref" text;--> statement-breakpoint
ALTER TABLE "person_keys" ADD COLUMN "person_ref" text;--> statement-breakpoint
-- hand-written below: people by a reference of the service's own. Every person named in the
-- ledger gets a row (a random reference); events, journeys and stored responses switch to it,
-- and an event's data names the reference instead of the client's id. Rows of erased persons go:
-- the mapping is what erasure destroys (their events already name no one once rewritten below).
INSERT INTO person_keys (tenant_id, person_id)
  SELECT DISTINCT tenant_id, person_id FROM journeys WHERE person_id IS NOT NULL
  UNION SELECT DISTINCT tenant_id, person_id FROM events WHERE person_id IS NOT NULL
  ON CONFLICT DO NOTHING;
--> statement-breakpoint
UPDATE person_keys SET person_ref = 'p_' || replace(gen_random_uuid()::text, '-', '');
--> statement-breakpoint
UPDATE events e SET person_ref = k.person_ref,
    data = CASE WHEN e.data ? 'personId' THEN jsonb_set(e.data, '{personId}', to_jsonb(k.person_ref)) ELSE e.data END
  FROM person_keys k WHERE k.tenant_id = e.tenant_id AND k.person_id = e.person_id;
--> statement-breakpoint
UPDATE events e SET data = jsonb_set(e.data, '{personId}', to_jsonb(k.person_ref))
  FROM person_keys k WHERE e.person_id IS NULL AND e.data ? 'personId' AND k.tenant_id = e.tenant_id AND k.person_id = e.data ->> 'personId';
--> statement-breakpoint
UPDATE journeys j SET person_ref = k.person_ref FROM person_keys k WHERE k.tenant_id = j.tenant_id AND k.person_id = j.person_id;
--> statement-breakpoint
UPDATE idempotency_keys i SET person_ref = k.person_ref FROM person_keys k WHERE k.tenant_id = i.tenant_id AND k.person_id = i.person_id;
--> statement-breakpoint
DELETE FROM idempotency_keys WHERE person_id IS NOT NULL AND person_ref IS NULL;
--> statement-breakpoint
-- Stream states name the client's id in their facts: they are refolded from the rewritten ledger.
UPDATE streams SET state = NULL;
--> statement-breakpoint
UPDATE audit a SET target_id = k.person_ref FROM person_keys k WHERE a.target_type = 'person' AND k.tenant_id = a.tenant_id AND k.person_id = a.target_id;
--> statement-breakpoint
DELETE FROM person_keys WHERE erased_at IS NOT NULL;
--> statement-breakpoint
SELECT jl_enable_tenant_isolation('erased_people'::regclass);
