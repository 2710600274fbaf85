import { SlackSecret, SlackSettings } from "../../../../shared/api/alert-destinations.ts";
import { eventOf, titleOf } from "../notification.ts";
import { JSON_HEADERS, type Destination } from "./types.ts";

/** Slack treats `&`, `<` and `>` as control characters in text; escaping them keeps `<!channel>` or a link in a user's email inert. */
const escape = (text: string) => text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
const field = (label: string, value: string | number | null) => ({ type: "mrkdwn", text: `*${label}*\n${value === null ? "—" : escape(String(value))}` });

const endpoint = ({ secret }: { secret: SlackSecret }) => secret.webhook_url;

/** Slack incoming webhook: `text` is the notification fallback, `blocks` the message (Block Kit). */
export const slack: Destination<SlackSettings, SlackSecret> = {
  kind: "slack",
  settings: SlackSettings,
  secret: SlackSecret,
  endpointPath: "secret.webhook_url",
  endpoint,
  async request(notification, config) {
    const event = eventOf(notification);
    const { alert } = event;
    const title = titleOf(notification);
    const location = `${alert.location.path ?? ""}[${alert.location.start}, ${alert.location.end})`;
    const fields = event.suppressed
      ? [
          field("Detector", alert.detector), field("Direction", alert.direction),
          field("Suppressed", event.suppressed.count), field("Window", `${event.suppressed.window_start} – ${event.suppressed.window_end}`),
        ]
      : [
          field("Detector", alert.detector), field("Category", alert.category),
          field("Direction", alert.direction), field("Action", alert.action),
          field("Severity", alert.severity), field("Score", alert.score),
          field("User", alert.actor.email ?? alert.actor.user_id), field("Client", alert.actor.client),
          field("Location", location),
        ];
    return {
      url: endpoint(config),
      headers: { ...JSON_HEADERS },
      body: JSON.stringify({
        text: escape(title),
        blocks: [
          { type: "header", text: { type: "plain_text", text: title.slice(0, 150) } },
          { type: "section", fields },
          { type: "context", elements: [{ type: "mrkdwn", text: `Request \`${escape(alert.request_id)}\` · ${event.time} · event ${event.id}` }] },
        ],
      }),
    };
  },
};
