CREATE TABLE `llm_models` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`name` text NOT NULL,
	`aliases` text NOT NULL,
	`deployments` text NOT NULL,
	`fallbacks` text NOT NULL,
	`price` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `orgs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `llm_models_org_name` ON `llm_models` (`org_id`,`name`);--> statement-breakpoint
CREATE INDEX `llm_models_org` ON `llm_models` (`org_id`,`id`);--> statement-breakpoint
CREATE TABLE `llm_providers` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`base_url` text NOT NULL,
	`consumer` integer NOT NULL,
	`timeout_ms` integer NOT NULL,
	`sealed_credential` text,
	`credential_hint` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `orgs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `llm_providers_org_name` ON `llm_providers` (`org_id`,`name`);--> statement-breakpoint
CREATE TABLE `active_policies` (
	`org_id` text PRIMARY KEY NOT NULL,
	`version` integer NOT NULL,
	`etag` text NOT NULL,
	`activated_by` text,
	`activated_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `orgs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `policy_versions` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`version` integer NOT NULL,
	`parent_version` integer NOT NULL,
	`author_id` text,
	`author_email` text,
	`message` text NOT NULL,
	`text` text NOT NULL,
	`diff` text NOT NULL,
	`tests` text NOT NULL,
	`mode` text NOT NULL,
	`input` text NOT NULL,
	`compiled` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `orgs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `policy_versions_org_version` ON `policy_versions` (`org_id`,`version`);--> statement-breakpoint
CREATE INDEX `policy_versions_org_id` ON `policy_versions` (`org_id`,`id`);--> statement-breakpoint
CREATE TABLE `mcp_servers` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`url` text NOT NULL,
	`transport` text NOT NULL,
	`auth_mode` text NOT NULL,
	`secret_header` text,
	`sealed_secret` text,
	`secret_hint` text,
	`owner_team_id` text,
	`visible_team_ids` text NOT NULL,
	`tags` text NOT NULL,
	`tool_tags` text NOT NULL,
	`enabled` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `orgs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `mcp_servers_org_name` ON `mcp_servers` (`org_id`,`name`);--> statement-breakpoint
CREATE TABLE `mcp_tool_pins` (
	`org_id` text NOT NULL,
	`server_id` text NOT NULL,
	`tool` text NOT NULL,
	`hash` text NOT NULL,
	`status` text NOT NULL,
	`reason` text,
	`pending_hash` text,
	`pending_definition` text,
	`first_seen_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`approved_by` text,
	PRIMARY KEY(`server_id`, `tool`),
	FOREIGN KEY (`org_id`) REFERENCES `orgs`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`server_id`) REFERENCES `mcp_servers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `mcp_tool_pins_org` ON `mcp_tool_pins` (`org_id`,`server_id`);--> statement-breakpoint
CREATE TABLE `mcp_virtual_servers` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`members` text NOT NULL,
	`visible_team_ids` text NOT NULL,
	`tags` text NOT NULL,
	`enabled` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `orgs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `mcp_virtual_servers_org_name` ON `mcp_virtual_servers` (`org_id`,`name`);--> statement-breakpoint
CREATE TABLE `limit_rules` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`scope` text NOT NULL,
	`scope_id` text,
	`requests_per_minute` integer,
	`tokens_per_minute` integer,
	`usd_per_day_micros` integer,
	`usd_per_month_micros` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `orgs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `limit_rules_org_scope` ON `limit_rules` (`org_id`,`scope`,`scope_id`);