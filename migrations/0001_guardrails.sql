CREATE TABLE `alert_destinations` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`settings` text NOT NULL,
	`sealed_secret` text NOT NULL,
	`min_severity` integer NOT NULL,
	`enabled` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `orgs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `alert_destinations_org` ON `alert_destinations` (`org_id`,`id`);--> statement-breakpoint
CREATE TABLE `alert_throttle` (
	`org_id` text NOT NULL,
	`key` text NOT NULL,
	`window_start` integer NOT NULL,
	`count` integer NOT NULL,
	PRIMARY KEY(`org_id`, `key`, `window_start`)
);
--> statement-breakpoint
CREATE TABLE `custom_detectors` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`pattern` text,
	`keywords` text,
	`case_sensitive` integer NOT NULL,
	`score` real NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `orgs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `custom_detectors_org_name` ON `custom_detectors` (`org_id`,`name`);--> statement-breakpoint
CREATE TABLE `guardrail_rules` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`detector` text NOT NULL,
	`directions` text NOT NULL,
	`action` text NOT NULL,
	`threshold` real NOT NULL,
	`enabled` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `orgs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `guardrail_rules_org` ON `guardrail_rules` (`org_id`,`id`);--> statement-breakpoint
CREATE TABLE `guardrail_settings` (
	`org_id` text PRIMARY KEY NOT NULL,
	`fail_mode` text NOT NULL,
	`redaction` text NOT NULL,
	`max_scan_bytes` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `orgs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `org_keys` (
	`org_id` text NOT NULL,
	`version` integer NOT NULL,
	`wrapped_key` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`org_id`, `version`),
	FOREIGN KEY (`org_id`) REFERENCES `orgs`(`id`) ON UPDATE no action ON DELETE no action
);
