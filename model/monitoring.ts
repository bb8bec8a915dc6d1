import { z } from "zod";
import { name, secretRef } from "./common";
import { onCalendar } from "./schedule";

const duration = z.string().regex(/^\d+(ms|s|m|h|d)$/, "must be a duration like 30s, 5m or 4h");

/**
 * One Alertmanager matcher as Alertmanager writes it (`severity="critical"`, `node=~"storage.*"`): label
 * name, operator, quoted value.
 */
const matcher = z
  .string()
  .regex(
    /^[a-zA-Z_][a-zA-Z0-9_]*(=|!=|=~|!~)"([^"\\]|\\.)*"$/,
    'must be a matcher like severity="critical" (label, one of = != =~ !~, a quoted value)',
  );

/** A webhook (ntfy, Gotify, a chat bridge): Alertmanager POSTs its JSON payload to `url`. */
const webhook = z.strictObject({
  /** Where Alertmanager POSTs (e.g. https://ntfy.sh/<topic> through ntfy's Alertmanager bridge). */
  url: z.string().url("must be an http(s) URL"),
  /** Sent as `Authorization: Bearer …`, read by Alertmanager from a file (never in its config). */
  bearerToken: secretRef.optional(),
  /** Also notify when the alert resolves. */
  sendResolved: z.boolean().default(true),
});

/** E-mail through an SMTP relay; the password is read from a file (smtp auth_password_file). */
const email = z.strictObject({
  /** Recipient address. */
  to: z.string().email("must be an e-mail address"),
  /** Sender address. */
  from: z.string().email("must be an e-mail address"),
  /** host:port of the relay (587 with STARTTLS, or 465). */
  smarthost: z.string().regex(/^[a-zA-Z0-9.-]+:\d{1,5}$/, "must be host:port, e.g. smtp.example.net:587"),
  /** SMTP login. */
  username: z.string().min(1),
  /** SMTP password, as a secret reference (delivered to Alertmanager as a file). */
  password: secretRef,
  /** Refuse to send without STARTTLS. */
  requireTls: z.boolean().default(true),
  /** Also notify when the alert resolves. */
  sendResolved: z.boolean().default(true),
});

export const alertReceiver = z
  .strictObject({
    /** Receiver name that routes refer to. */
    name,
    /** Deliver by webhook. */
    webhook: webhook.optional(),
    /** Deliver by e-mail. */
    email: email.optional(),
  })
  .refine((r) => (r.webhook === undefined) !== (r.email === undefined), {
    message: "set exactly one of webhook or email",
  });

export const alertRoute = z.strictObject({
  /** The receiver (receivers[].name) that gets matching alerts. */
  receiver: name,
  /** Label matchers like severity="critical"; all must match. */
  matchers: z
    .array(matcher)
    .min(1, "a route needs at least one matcher; the default receiver takes the rest"),
  /** Keep evaluating later routes after this one matched (e.g. critical to e-mail and to the webhook). */
  continue: z.boolean().default(false),
});

/** Monthly scrub, weekly short and monthly long SMART self-tests, health metrics every 15 minutes. */
export const DEFAULT_SCHEDULES = {
  zfsScrub: "*-*-01 02:00:00",
  smartShortTest: "Sun *-*-* 01:00:00",
  smartLongTest: "*-*-15 01:00:00",
  healthMetrics: "*:0/15",
};

export const alerting = z
  .strictObject({
    /** Receiver of every alert no route claims. */
    receiver: name,
    /** Labels that group alerts into one notification (Alertmanager route `group_by`). */
    groupBy: z.array(z.string()).default(["alertname", "node"]),
    /** How long to wait for more alerts of a new group before the first notification. */
    groupWait: duration.default("30s"),
    /** How long to wait before notifying about alerts added to a group already notified. */
    groupInterval: duration.default("5m"),
    /** How long before a still-firing alert is sent again. */
    repeatInterval: duration.default("4h"),
    /** Routes to receivers by label matchers; first match wins unless `continue`. */
    routes: z.array(alertRoute).default([]),
    /** Where notifications go: a webhook (e.g. ntfy) or e-mail, credentials as secrets. */
    receivers: z.array(alertReceiver).min(1, "declare at least one receiver, or no alert reaches anyone"),
  })
  .superRefine((a, ctx) => {
    const names = a.receivers.map((r) => r.name);
    const known = new Set(names);
    const hint = `declared receivers: ${names.join(", ")}`;
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i)
        ctx.addIssue({
          code: "custom",
          path: ["receivers", i, "name"],
          message: `duplicate receiver "${n}"`,
        });
    });
    if (!known.has(a.receiver))
      ctx.addIssue({
        code: "custom",
        path: ["receiver"],
        message: `no receiver named "${a.receiver}" (${hint})`,
      });
    a.routes.forEach((r, i) => {
      if (!known.has(r.receiver))
        ctx.addIssue({
          code: "custom",
          path: ["routes", i, "receiver"],
          message: `no receiver named "${r.receiver}" (${hint})`,
        });
    });
  });

export const monitoringConfig = z.strictObject({
  /** Alertmanager's routing: receivers and the routes to them. */
  alerting,
  /**
   * Bearer tokens for metrics endpoints that require them, by service name (Home Assistant's
   * /api/prometheus answers only with a long-lived access token). Prometheus reads each from a file.
   */
  scrapeTokens: z.record(name, secretRef).default({}),
  /** Schedules of the storage node's health jobs (systemd OnCalendar expressions). */
  schedules: z
    .strictObject({
      /** When each pool is scrubbed. */
      zfsScrub: onCalendar.default(DEFAULT_SCHEDULES.zfsScrub),
      /** When each disk runs a short SMART self-test. */
      smartShortTest: onCalendar.default(DEFAULT_SCHEDULES.smartShortTest),
      /** When each disk runs a long SMART self-test. */
      smartLongTest: onCalendar.default(DEFAULT_SCHEDULES.smartLongTest),
      /** When ZFS, SMART and certificate health is written as metrics. */
      healthMetrics: onCalendar.default(DEFAULT_SCHEDULES.healthMetrics),
    })
    .default(DEFAULT_SCHEDULES),
});

export type MonitoringConfig = z.output<typeof monitoringConfig>;
export type AlertReceiver = z.output<typeof alertReceiver>;
