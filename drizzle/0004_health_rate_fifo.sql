ALTER TABLE "webhooks" ADD COLUMN "rate_limit" integer;--> statement-breakpoint
ALTER TABLE "webhooks" ADD COLUMN "rate_next_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "webhooks" ADD COLUMN "fifo" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "deliveries_open_idx" ON "deliveries" USING btree ("webhook_id","id") WHERE "deliveries"."status" in ('PENDING', 'AWAITING_RETRY', 'IN_FLIGHT');--> statement-breakpoint
CREATE INDEX "delivery_attempts_webhook_started_idx" ON "delivery_attempts" USING btree ("webhook_id","started_at");