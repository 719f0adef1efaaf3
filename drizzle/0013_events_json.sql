-- The event's JSON as the text published: stored without being parsed into a tree, returned as
-- it is, and in the key order its requests carry. One statement, so the table is rewritten once.
ALTER TABLE "events"
  ALTER COLUMN "actor" SET DATA TYPE json USING "actor"::json,
  ALTER COLUMN "changed_fields" SET DATA TYPE json USING "changed_fields"::json,
  ALTER COLUMN "data" SET DATA TYPE json USING "data"::json;
