CREATE TABLE `mcp_oauth_states` (
	`state_hash` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`server_id` text NOT NULL,
	`user_id` text NOT NULL,
	`sealed_verifier` text NOT NULL,
	`token_endpoint` text NOT NULL,
	`issuer` text,
	`revocation_endpoint` text,
	`redirect_uri` text NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `orgs`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`server_id`) REFERENCES `mcp_servers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `mcp_oauth_states_expiry` ON `mcp_oauth_states` (`expires_at`);--> statement-breakpoint
CREATE TABLE `mcp_oauth_tokens` (
	`org_id` text NOT NULL,
	`server_id` text NOT NULL,
	`user_id` text NOT NULL,
	`sealed_access_token` text NOT NULL,
	`sealed_refresh_token` text,
	`expires_at` integer,
	`scope` text,
	`token_endpoint` text NOT NULL,
	`revocation_endpoint` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`server_id`, `user_id`),
	FOREIGN KEY (`org_id`) REFERENCES `orgs`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`server_id`) REFERENCES `mcp_servers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `mcp_oauth_tokens_org_user` ON `mcp_oauth_tokens` (`org_id`,`user_id`);--> statement-breakpoint
CREATE TABLE `mcp_server_oauth` (
	`server_id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`client_id` text NOT NULL,
	`sealed_client_secret` text,
	`client_secret_hint` text,
	`scopes` text NOT NULL,
	`authorization_endpoint` text,
	`token_endpoint` text,
	FOREIGN KEY (`server_id`) REFERENCES `mcp_servers`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`org_id`) REFERENCES `orgs`(`id`) ON UPDATE no action ON DELETE no action
);
