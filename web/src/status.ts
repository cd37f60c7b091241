/**
 * A connection's state in words, for people. Pure functions over plain data, so they are unit
 * tested (functions/test/unit/web-status.test.ts) without a browser.
 */

/** Converts a Firestore Timestamp, Date, ISO string or epoch ms into a Date (or null). */
export function toDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  if (typeof value === "object" && typeof (value as { toDate?: unknown }).toDate === "function") {
    return (value as { toDate(): Date }).toDate();
  }
  if (typeof value === "string" || typeof value === "number") {
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  return null;
}

/** The fields of users/{uid}/connections/{provider} the app shows (functions/src/connections/model.ts). */
export interface ConnectionView {
  status: string;
  providerAccountName: string | null;
  lastSuccessAt: Date | null;
  lastSyncAt: Date | null;
  lastManualSyncAt: Date | null;
  rateLimitedUntil: Date | null;
  reauthReason: string | null;
  lastError: { code: string; message: string; at: Date | null } | null;
  leaseExpiresAt: Date | null;
  counts: Record<string, number>;
  /** The person's own provider app the connection goes through; null: the site's shared app. */
  app: { clientId: string } | null;
  /** The last gap the sync detected in the play log (`lastHistoryGap`): plays between the two times may be lost. */
  historyGap: { after: Date; before: Date; detectedAt: Date | null } | null;
  /** Scheduled syncs since the last sync history row that found nothing new (`quietRuns`). */
  quietRuns: number;
}

/** Reads a connection document's data defensively (a missing field is null, never a crash). */
export function readConnection(data: Record<string, unknown> | undefined): ConnectionView | null {
  if (!data) return null;
  const err = data.lastError as { code?: unknown; message?: unknown; at?: unknown } | null | undefined;
  const lease = data.lease as { expiresAt?: unknown } | null | undefined;
  const app = data.app as { clientId?: unknown } | null | undefined;
  const gap = data.lastHistoryGap as { after?: unknown; before?: unknown; detectedAt?: unknown } | null | undefined;
  const gapAfter = gap ? toDate(gap.after) : null;
  const gapBefore = gap ? toDate(gap.before) : null;
  const counts: Record<string, number> = {};
  if (data.counts && typeof data.counts === "object") {
    for (const [k, v] of Object.entries(data.counts as Record<string, unknown>))
      if (typeof v === "number") counts[k] = v;
  }
  return {
    status: typeof data.status === "string" ? data.status : "unknown",
    providerAccountName: typeof data.providerAccountName === "string" ? data.providerAccountName : null,
    lastSuccessAt: toDate(data.lastSuccessAt),
    lastSyncAt: toDate(data.lastSyncAt),
    lastManualSyncAt: toDate(data.lastManualSyncAt),
    rateLimitedUntil: toDate(data.rateLimitedUntil),
    reauthReason: typeof data.reauthReason === "string" ? data.reauthReason : null,
    lastError: err
      ? { code: String(err.code ?? "error"), message: String(err.message ?? "Unknown error."), at: toDate(err.at) }
      : null,
    leaseExpiresAt: lease ? toDate(lease.expiresAt) : null,
    counts,
    app:
      app && typeof app === "object" && typeof app.clientId === "string" && app.clientId
        ? { clientId: app.clientId }
        : null,
    historyGap:
      gap && gapAfter && gapBefore ? { after: gapAfter, before: gapBefore, detectedAt: toDate(gap.detectedAt) } : null,
    quietRuns:
      typeof data.quietRuns === "number" && Number.isInteger(data.quietRuns) && data.quietRuns > 0 ? data.quietRuns : 0,
  };
}

export type Tone = "ok" | "busy" | "warn" | "error" | "off";

export interface StatusWords {
  /** Short label: "Connected", "Syncing…", "Needs re-authorization", … */
  label: string;
  tone: Tone;
  /** A sentence with the reason or what happens next; empty when nothing to add. */
  detail: string;
  /** Whether Connect (rather than Disconnect / Sync now) is the main action. */
  canConnect: boolean;
  canSync: boolean;
}

const time = (d: Date) => d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });

/** A provider's own words for a used-up quota (web/src/providers/<id>/), given its end in words. */
export type QuotaWords = (c: ConnectionView, until: string) => { label: string; detail: string };

/**
 * The status in words. Order matters: a running sync and a needed re-auth say the most. `quota`
 * says a `quota_exceeded` in the provider's words (absent: a daily quota, as YouTube's).
 */
export function describeConnection(c: ConnectionView | null, now: Date = new Date(), quota?: QuotaWords): StatusWords {
  if (!c || c.status === "disconnected") {
    return { label: "Not connected", tone: "off", detail: "", canConnect: true, canSync: false };
  }
  if (c.status === "needs_reauth") {
    return {
      label: "Needs re-authorization",
      tone: "warn",
      detail: `${c.reauthReason ?? "The provider no longer accepts the stored authorization."} Connect again to resume syncing.`,
      canConnect: true,
      canSync: false,
    };
  }
  if (c.leaseExpiresAt && c.leaseExpiresAt.getTime() > now.getTime()) {
    return {
      label: "Syncing…",
      tone: "busy",
      detail: "A sync is running right now.",
      canConnect: false,
      canSync: false,
    };
  }
  if (c.rateLimitedUntil && c.rateLimitedUntil.getTime() > now.getTime()) {
    if (c.lastError?.code === "quota_exceeded" && quota) {
      return { ...quota(c, time(c.rateLimitedUntil)), tone: "warn", canConnect: false, canSync: false };
    }
    if (c.lastError?.code === "quota_exceeded") {
      // A daily quota (YouTube's), not a short limit: it is the app's, and it ends at a known time.
      return {
        label: `Daily quota used up until ${time(c.rateLimitedUntil)}`,
        tone: "warn",
        detail:
          "The app has used its daily allowance of requests to this provider; syncing resumes by itself when it resets.",
        canConnect: false,
        canSync: false,
      };
    }
    return {
      label: `Rate-limited until ${time(c.rateLimitedUntil)}`,
      tone: "warn",
      detail: "The provider asked us to wait; syncing resumes by itself after that.",
      canConnect: false,
      canSync: false,
    };
  }
  if (c.status === "error") {
    return {
      label: "Error",
      tone: "error",
      detail: c.lastError ? `The last sync failed: ${c.lastError.message}` : "The last sync failed.",
      canConnect: false,
      canSync: true,
    };
  }
  if (c.status === "paused") {
    return { label: "Paused", tone: "off", detail: "Syncing is paused.", canConnect: false, canSync: true };
  }
  if (c.status === "connected") {
    const pending = c.lastSuccessAt ? "" : "The first sync has not finished yet.";
    const lastFailed =
      c.lastError && c.lastError.at && (!c.lastSuccessAt || c.lastError.at > c.lastSuccessAt)
        ? `The last attempt failed (${c.lastError.message}); it will be retried.`
        : "";
    return {
      label: "Connected",
      tone: "ok",
      detail: [pending, lastFailed].filter(Boolean).join(" "),
      canConnect: false,
      canSync: true,
    };
  }
  return { label: `Unknown status “${c.status}”`, tone: "error", detail: "", canConnect: true, canSync: false };
}

/** When Sync now is allowed again, given the cooldown; null when it is allowed now. */
export function syncAvailableAt(
  c: ConnectionView | null,
  cooldownSeconds: number,
  now: Date = new Date(),
): Date | null {
  if (!c?.lastManualSyncAt) return null;
  const at = new Date(c.lastManualSyncAt.getTime() + cooldownSeconds * 1000);
  return at.getTime() > now.getTime() ? at : null;
}

/**
 * Why Sync now is refused, by the server's reason (`cooldown`, `rate_limited`, `backoff`), ending
 * with `when` (e.g. "Sync now is possible again in 2 hours (…)."). A backoff is not a cooldown: the
 * last syncs failed and the next try waits, whatever the person clicks.
 */
export function syncRefusedText(providerName: string, reason: string | null, when: string): string {
  if (reason === "backoff") return `The last syncs of ${providerName} failed, so the next try waits. ${when}`;
  if (reason === "rate_limited") return `${providerName} asked us to wait. ${when}`;
  return `A sync was requested a moment ago. ${when}`;
}
