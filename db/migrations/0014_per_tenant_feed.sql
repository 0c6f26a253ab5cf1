CREATE TABLE "feed_legacy_positions" (
	"tenant_id" text NOT NULL,
	"old_position" bigint NOT NULL,
	"position" bigint NOT NULL,
	CONSTRAINT "feed_legacy_positions_tenant_id_old_position_pk" PRIMARY KEY("tenant_id","old_position")
);
--> statement-breakpoint
CREATE TABLE "tenant_heads" (
	"tenant_id" text PRIMARY KEY NOT NULL,
	"head" bigint NOT NULL
);
--> statement-breakpoint
DROP INDEX "events_feed";--> statement-breakpoint
ALTER TABLE "events" ALTER COLUMN "position" DROP IDENTITY;--> statement-breakpoint
-- hand-written below
-- Moved here from the generated part above: the renumbering below orders by tx_id, so drizzle's
-- `DROP COLUMN "tx_id"` must come after it (delete the generated one when regenerating).
-- The owner has no policy of its own: lift FORCE while it moves every tenant's rows.
ALTER TABLE events NO FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
-- Each tenant's events become 1, 2, 3... in the order the old feed served them (tx_id, position);
-- the mapping stays, so a cursor handed out before (which named the old position) resumes in place.
INSERT INTO feed_legacy_positions (tenant_id, old_position, position)
  SELECT tenant_id, position, row_number() OVER (PARTITION BY tenant_id ORDER BY tx_id, position) FROM events;
--> statement-breakpoint
-- Through negatives: (tenant_id, position) stays unique after every row.
UPDATE events e SET position = -m.position
  FROM feed_legacy_positions m WHERE m.tenant_id = e.tenant_id AND m.old_position = e.position;
--> statement-breakpoint
UPDATE events SET position = -position;
--> statement-breakpoint
INSERT INTO tenant_heads (tenant_id, head) SELECT tenant_id, max(position) FROM events GROUP BY tenant_id;
--> statement-breakpoint
ALTER TABLE "events" DROP COLUMN "tx_id";
--> statement-breakpoint
ALTER TABLE events FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
SELECT jl_enable_tenant_isolation(t::regclass) FROM unnest(ARRAY['tenant_heads', 'feed_legacy_positions']) AS t;
