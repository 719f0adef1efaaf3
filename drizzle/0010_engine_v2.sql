-- Engine v2: open deliveries in a small queue table; finished deliveries, attempts and events
-- written once into tables partitioned by day of their UUIDv7 ids (the first 48 bits are the
-- creation time in ms), so that retention drops whole days. The old tables are renamed here,
-- their rows moved, and dropped in 0011.
ALTER TABLE "events" RENAME TO "events_v1";--> statement-breakpoint
ALTER TABLE "deliveries" RENAME TO "deliveries_v1";--> statement-breakpoint
ALTER TABLE "delivery_attempts" RENAME TO "delivery_attempts_v1";--> statement-breakpoint
ALTER INDEX "events_pkey" RENAME TO "events_v1_pkey";--> statement-breakpoint
ALTER INDEX "deliveries_pkey" RENAME TO "deliveries_v1_pkey";--> statement-breakpoint
ALTER INDEX "delivery_attempts_pkey" RENAME TO "delivery_attempts_v1_pkey";--> statement-breakpoint
DROP INDEX "events_idempotency_key";--> statement-breakpoint
DROP INDEX "events_tenant_created_idx";--> statement-breakpoint
DROP INDEX "delivery_attempts_delivery_idx";--> statement-breakpoint
DROP INDEX "delivery_attempts_webhook_started_idx";--> statement-breakpoint
CREATE TABLE "events" (
	"id" uuid NOT NULL,
	"tenant_id" text NOT NULL,
	"event_type" text NOT NULL,
	"entity_type" text,
	"entity_id" text,
	"entity_fqn" text,
	"cluster" text,
	"namespace" text,
	"actor" jsonb,
	"level" text NOT NULL,
	"changed_fields" jsonb NOT NULL,
	"data" jsonb,
	"occurred_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"idempotency_key" text,
	CONSTRAINT "events_pkey" PRIMARY KEY("id","tenant_id")
) PARTITION BY RANGE ("id");--> statement-breakpoint
CREATE TABLE "delivery_queue" (
	"id" uuid NOT NULL,
	"tenant_id" text NOT NULL,
	"event_id" uuid NOT NULL,
	"webhook_id" uuid NOT NULL,
	"status" text NOT NULL,
	"attempt_count" integer DEFAULT 0 NOT NULL,
	"schedule_start" integer DEFAULT 0 NOT NULL,
	"discard_from" timestamp with time zone,
	"next_attempt_at" timestamp with time zone,
	"lease_until" timestamp with time zone,
	"leased_by" text,
	"last_status_code" integer,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "delivery_queue_pkey" PRIMARY KEY("id","tenant_id")
) WITH (fillfactor = 80);--> statement-breakpoint
CREATE TABLE "delivery_history" (
	"id" uuid NOT NULL,
	"tenant_id" text NOT NULL,
	"event_id" uuid NOT NULL,
	"webhook_id" uuid NOT NULL,
	"status" text NOT NULL,
	"attempt_count" integer DEFAULT 0 NOT NULL,
	"schedule_start" integer DEFAULT 0 NOT NULL,
	"discard_from" timestamp with time zone,
	"next_attempt_at" timestamp with time zone,
	"lease_until" timestamp with time zone,
	"leased_by" text,
	"last_status_code" integer,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "delivery_history_pkey" PRIMARY KEY("id","tenant_id")
) PARTITION BY RANGE ("id");--> statement-breakpoint
CREATE TABLE "delivery_attempts" (
	"id" uuid NOT NULL,
	"tenant_id" text NOT NULL,
	"delivery_id" uuid NOT NULL,
	"webhook_id" uuid NOT NULL,
	"attempt_number" integer NOT NULL,
	"status" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"duration_ms" integer NOT NULL,
	"request_url" text NOT NULL,
	"request_headers" jsonb NOT NULL,
	"request_body" text,
	"response_status" integer,
	"response_headers" jsonb,
	"response_body" text,
	"error_kind" text,
	"error_message" text,
	CONSTRAINT "delivery_attempts_pkey" PRIMARY KEY("id","tenant_id")
) PARTITION BY RANGE ("id");--> statement-breakpoint
CREATE TABLE "maintenance_leases" (
	"name" text PRIMARY KEY NOT NULL,
	"holder" text NOT NULL,
	"until" timestamp with time zone NOT NULL
);--> statement-breakpoint
-- Compressed in the row rather than moved out to a TOAST table: with toast_tuple_target = 128
-- on each partition, a 1 KB payload is compressed where it lies (one write, not two).
ALTER TABLE "events" ALTER COLUMN "data" SET STORAGE MAIN, ALTER COLUMN "changed_fields" SET STORAGE MAIN;--> statement-breakpoint
ALTER TABLE "delivery_attempts" ALTER COLUMN "request_body" SET STORAGE MAIN, ALTER COLUMN "request_headers" SET STORAGE MAIN, ALTER COLUMN "response_headers" SET STORAGE MAIN, ALTER COLUMN "response_body" SET STORAGE MAIN;--> statement-breakpoint
CREATE INDEX "delivery_queue_webhook_due_idx" ON "delivery_queue" USING btree ("webhook_id","next_attempt_at","id");--> statement-breakpoint
CREATE INDEX "delivery_queue_due_idx" ON "delivery_queue" USING btree ("next_attempt_at");--> statement-breakpoint
CREATE INDEX "delivery_history_webhook_idx" ON "delivery_history" USING btree ("webhook_id","id");--> statement-breakpoint
CREATE INDEX "delivery_history_event_idx" ON "delivery_history" USING btree ("event_id");--> statement-breakpoint
CREATE INDEX "delivery_attempts_delivery_idx" ON "delivery_attempts" USING btree ("delivery_id","attempt_number");--> statement-breakpoint
CREATE INDEX "delivery_attempts_webhook_started_idx" ON "delivery_attempts" USING btree ("webhook_id","started_at");--> statement-breakpoint
CREATE VIEW "deliveries" AS
  SELECT id, tenant_id, event_id, webhook_id, status, attempt_count, schedule_start, discard_from,
         next_attempt_at, lease_until, leased_by, last_status_code, last_error, created_at,
         updated_at, completed_at
    FROM delivery_queue
  UNION ALL
  SELECT id, tenant_id, event_id, webhook_id, status, attempt_count, schedule_start, discard_from,
         next_attempt_at, lease_until, leased_by, last_status_code, last_error, created_at,
         updated_at, completed_at
    FROM delivery_history;--> statement-breakpoint
-- The first UUIDv7 of a day (UTC), and the day of a UUIDv7.
CREATE FUNCTION hookline_day_uuid(day date) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
  select (lpad(to_hex((extract(epoch from day::timestamp) * 1000)::bigint), 12, '0')
          || '00000000000000000000')::uuid
$$;--> statement-breakpoint
CREATE FUNCTION hookline_uuid_day(id uuid) RETURNS date LANGUAGE sql IMMUTABLE AS $$
  select (to_timestamp(('x' || lpad(substr(replace(id::text, '-', ''), 1, 12), 16, '0'))::bit(64)::bigint / 1000.0)
          at time zone 'UTC')::date
$$;--> statement-breakpoint
-- The day partitions of the partitioned tables for [first_day, last_day], made where missing
-- (by any number of processes at once); an events partition gets the index that keeps an
-- idempotency key unique within its day. Returns how many tables it made.
CREATE FUNCTION hookline_ensure_partitions(first_day date, last_day date) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  day date;
  parent text;
  part text;
  made integer := 0;
BEGIN
  FOR day IN SELECT d::date FROM generate_series(first_day::timestamp, last_day::timestamp, interval '1 day') d LOOP
    FOREACH parent IN ARRAY ARRAY['events', 'delivery_history', 'delivery_attempts'] LOOP
      part := parent || '_' || to_char(day, 'YYYYMMDD');
      CONTINUE WHEN to_regclass(part) IS NOT NULL;
      BEGIN
        EXECUTE format(
          'CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L) WITH (toast_tuple_target = 128)',
          part, parent, hookline_day_uuid(day), hookline_day_uuid(day + 1));
        IF parent = 'events' THEN
          EXECUTE format(
            'CREATE UNIQUE INDEX %I ON %I (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL',
            part || '_idempotency_key', part);
        END IF;
        made := made + 1;
      EXCEPTION WHEN duplicate_table THEN
        NULL;
      END;
    END LOOP;
  END LOOP;
  RETURN made;
END
$$;--> statement-breakpoint
SELECT hookline_ensure_partitions(day, day) FROM (
  SELECT DISTINCT hookline_uuid_day(id) AS day FROM events_v1
  UNION SELECT DISTINCT hookline_uuid_day(id) FROM deliveries_v1
  UNION SELECT DISTINCT hookline_uuid_day(id) FROM delivery_attempts_v1
) days;--> statement-breakpoint
SELECT hookline_ensure_partitions(current_date - 1, current_date + 3);--> statement-breakpoint
INSERT INTO events (id, tenant_id, event_type, entity_type, entity_id, entity_fqn, cluster, namespace,
    actor, level, changed_fields, data, occurred_at, created_at, idempotency_key)
  SELECT id, tenant_id, event_type, entity_type, entity_id, entity_fqn, cluster, namespace,
    actor, level, changed_fields, data, occurred_at, created_at, idempotency_key
    FROM events_v1;--> statement-breakpoint
INSERT INTO delivery_queue
  SELECT id, tenant_id, event_id, webhook_id, status, attempt_count, schedule_start, discard_from,
         next_attempt_at, lease_until, leased_by, last_status_code, last_error, created_at,
         updated_at, completed_at
    FROM deliveries_v1 WHERE status IN ('PENDING', 'AWAITING_RETRY', 'IN_FLIGHT');--> statement-breakpoint
INSERT INTO delivery_history
  SELECT id, tenant_id, event_id, webhook_id, status, attempt_count, schedule_start, discard_from,
         next_attempt_at, lease_until, leased_by, last_status_code, last_error, created_at,
         updated_at, completed_at
    FROM deliveries_v1 WHERE status NOT IN ('PENDING', 'AWAITING_RETRY', 'IN_FLIGHT');--> statement-breakpoint
-- A request body is kept once per delivery: on its first attempt, and on a later one only where
-- it differs from the first.
INSERT INTO delivery_attempts
  SELECT id, tenant_id, delivery_id, webhook_id, attempt_number, status, started_at, duration_ms,
         request_url, request_headers,
         CASE WHEN attempt_number > first_number AND request_body = first_body THEN NULL ELSE request_body END,
         response_status, response_headers, response_body, error_kind, error_message
    FROM (SELECT a.*,
                 first_value(request_body) OVER w AS first_body,
                 first_value(attempt_number) OVER w AS first_number
            FROM delivery_attempts_v1 a
          WINDOW w AS (PARTITION BY delivery_id ORDER BY attempt_number)) a;
