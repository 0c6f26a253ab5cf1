-- The promise rows' own history copy was written on every change and read by nothing (a promise's
-- history is read from the ledger); it also made every journey's stored state grow with its promise events.
ALTER TABLE "promises" DROP COLUMN "history";
