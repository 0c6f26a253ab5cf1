DROP INDEX "events_person";--> statement-breakpoint
DROP INDEX "journeys_person";--> statement-breakpoint
ALTER TABLE "person_keys" DROP CONSTRAINT "person_keys_tenant_id_person_id_pk";--> statement-breakpoint
ALTER TABLE "journeys" ALTER COLUMN "person_ref" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "person_keys" ALTER COLUMN "person_ref" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "person_keys" ADD CONSTRAINT "person_keys_tenant_id_person_ref_pk" PRIMARY KEY("tenant_id","person_ref");--> statement-breakpoint
CREATE UNIQUE INDEX "person_keys_person_id" ON "person_keys" USING btree ("tenant_id","person_id");--> statement-breakpoint
CREATE INDEX "events_person" ON "events" USING btree ("tenant_id","person_ref");--> statement-breakpoint
CREATE INDEX "journeys_person" ON "journeys" USING btree ("tenant_id","person_ref","id");--> statement-breakpoint
ALTER TABLE "events" DROP COLUMN "person_id";--> statement-breakpoint
ALTER TABLE "idempotency_keys" DROP COLUMN "person_id";--> statement-breakpoint
ALTER TABLE "journeys" DROP COLUMN "person_id";--> statement-breakpoint
ALTER TABLE "person_keys" DROP COLUMN "erased_at";--> statement-breakpoint
ALTER TABLE "person_keys" DROP COLUMN "erased_reason";