-- Half of each page of the queue left free: a claim sets status and lease (no indexed column), so
-- with room on the page PostgreSQL updates the row in place (a HOT update, no new index entries).
-- Full pages made most claims write a new version of the row and an entry in every index.
-- Applies to pages written from now on; the queue is small and turns over quickly.
ALTER TABLE "delivery_queue" SET (fillfactor = 50);
