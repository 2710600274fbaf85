CREATE TABLE `idp_configs` (
	`org_id` text PRIMARY KEY NOT NULL,
	`issuer` text NOT NULL,
	`client_id` text NOT NULL,
	`sealed_client_secret` text,
	`scopes` text NOT NULL,
	`claims` text NOT NULL,
	`group_teams` text NOT NULL,
	`auto_create_teams` integer NOT NULL,
	`enabled` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `orgs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `oauth_settings` (
	`org_id` text PRIMARY KEY NOT NULL,
	`dynamic_registration` integer NOT NULL,
	`client_metadata_documents` integer NOT NULL,
	`access_token_ttl_seconds` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `orgs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `scim_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`secret_hash` text NOT NULL,
	`hint` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer,
	FOREIGN KEY (`org_id`) REFERENCES `orgs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `scim_tokens_org` ON `scim_tokens` (`org_id`,`id`);--> statement-breakpoint
ALTER TABLE `teams` ADD `display_name` text;--> statement-breakpoint
ALTER TABLE `teams` ADD `external_id` text;--> statement-breakpoint
CREATE INDEX `teams_org_external_id` ON `teams` (`org_id`,`external_id`);--> statement-breakpoint
ALTER TABLE `users` ADD `external_id` text;--> statement-breakpoint
ALTER TABLE `users` ADD `idp_subject` text;--> statement-breakpoint
ALTER TABLE `users` ADD `scim_attributes` text;--> statement-breakpoint
CREATE UNIQUE INDEX `users_org_idp_subject` ON `users` (`org_id`,`idp_subject`);--> statement-breakpoint
CREATE INDEX `users_org_external_id` ON `users` (`org_id`,`external_id`);