-- Processes keep the webhooks that publishes match in memory (src/webhooks/cache.ts); any change
-- to a webhook tells every process to read them again. Not the columns the dispatcher writes
-- on claims and attempts (rate_next_at, failure_details), which no publish reads: those
-- writes would otherwise empty every cache many times a second.
CREATE FUNCTION hookline_webhooks_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('hookline_webhooks', '');
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER webhooks_changed_rows AFTER INSERT OR DELETE ON webhooks
  FOR EACH STATEMENT EXECUTE FUNCTION hookline_webhooks_changed();
--> statement-breakpoint
CREATE TRIGGER webhooks_changed_truncate AFTER TRUNCATE ON webhooks
  FOR EACH STATEMENT EXECUTE FUNCTION hookline_webhooks_changed();
--> statement-breakpoint
CREATE TRIGGER webhooks_changed_values AFTER UPDATE ON webhooks
  FOR EACH ROW
  WHEN ((to_jsonb(OLD) - 'rate_next_at' - 'failure_details')
        IS DISTINCT FROM (to_jsonb(NEW) - 'rate_next_at' - 'failure_details'))
  EXECUTE FUNCTION hookline_webhooks_changed();
