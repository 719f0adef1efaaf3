-- The tables 0010 moved the rows out of.
DROP TABLE "delivery_attempts_v1";--> statement-breakpoint
DROP TABLE "deliveries_v1";--> statement-breakpoint
DROP TABLE "events_v1";
