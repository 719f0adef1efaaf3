CREATE TABLE "api_tokens" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" text DEFAULT 'default' NOT NULL,
	"name" text NOT NULL,
	"role" text NOT NULL,
	"token_hash" text NOT NULL,
	"bootstrap" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "webhook_versions" (
	"webhook_id" uuid NOT NULL,
	"version_seq" integer NOT NULL,
	"snapshot" jsonb NOT NULL,
	"change_description" jsonb,
	"updated_at" timestamp with time zone NOT NULL,
	"updated_by" text NOT NULL,
	CONSTRAINT "webhook_versions_webhook_id_version_seq_pk" PRIMARY KEY("webhook_id","version_seq")
);
--> statement-breakpoint
CREATE TABLE "webhooks" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" text DEFAULT 'default' NOT NULL,
	"name" text NOT NULL,
	"display_name" text,
	"description" text,
	"webhook_type" text NOT NULL,
	"status" text NOT NULL,
	"enabled" boolean NOT NULL,
	"batch_size" integer NOT NULL,
	"event_filters" jsonb NOT NULL,
	"events_policy" jsonb,
	"min_level" text,
	"config" jsonb NOT NULL,
	"secrets" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"retry_policy" jsonb NOT NULL,
	"failure_details" jsonb,
	"owner_type" text,
	"owner_name" text,
	"owner_id" text,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"domain" text,
	"version_seq" integer DEFAULT 1 NOT NULL,
	"change_description" jsonb,
	"deleted" boolean DEFAULT false NOT NULL,
	"updated_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "webhook_versions" ADD CONSTRAINT "webhook_versions_webhook_id_webhooks_id_fk" FOREIGN KEY ("webhook_id") REFERENCES "public"."webhooks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_tokens_hash_key" ON "api_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "api_tokens_one_bootstrap_key" ON "api_tokens" USING btree ("bootstrap") WHERE "api_tokens"."bootstrap" and "api_tokens"."revoked_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "webhooks_tenant_name_key" ON "webhooks" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE INDEX "webhooks_tenant_status_idx" ON "webhooks" USING btree ("tenant_id","status");--> statement-breakpoint
CREATE INDEX "webhooks_tags_idx" ON "webhooks" USING gin ("tags");