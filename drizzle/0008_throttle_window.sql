ALTER TABLE "webhooks" ADD COLUMN "throttle_next_at" timestamp with time zone;--> statement-breakpoint
-- The claim writes throttle_next_at as it writes rate_next_at; no publish reads it, so it must
-- not empty every process's webhook cache either (see 0007).
DROP TRIGGER webhooks_changed_values ON webhooks;
--> statement-breakpoint
CREATE TRIGGER webhooks_changed_values AFTER UPDATE ON webhooks
  FOR EACH ROW
  WHEN ((to_jsonb(OLD) - 'rate_next_at' - 'throttle_next_at' - 'failure_details')
        IS DISTINCT FROM (to_jsonb(NEW) - 'rate_next_at' - 'throttle_next_at' - 'failure_details'))
  EXECUTE FUNCTION hookline_webhooks_changed();
