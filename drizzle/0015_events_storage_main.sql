-- 0013 changed the events' JSON columns to json, and a type change resets a column's storage
-- to its type's default (EXTENDED), undoing the MAIN that 0010 set. With each partition's
-- toast_tuple_target of 128, an event of more than about 2 KB was then moved out to the TOAST
-- table (a second write, an entry in its index, and a lookup in it on every read) instead of
-- being compressed where it lies. Set again; nothing is rewritten.
ALTER TABLE "events" ALTER COLUMN "data" SET STORAGE MAIN, ALTER COLUMN "changed_fields" SET STORAGE MAIN;
