/**
 * The Operator view (`#/operator`), for people whose ID token carries the `admin` claim (main.ts
 * shows the link and the route only to them; the `operator` callable refuses everyone else):
 * connections by provider and status, the backlog, provider pauses with "Lift", the last fan-outs,
 * the last errors and the recent runs — one table each, read from one call of the callable, with
 * a Refresh button. Everything it shows is a uid, a provider, counts, times and error sentences.
 */
import { ApiError, type ProviderId, operatorCall } from "../api";
import { type Child, type View, append, empty, errorBox, formatDateTime, h, loading, relative } from "../dom";
import { isObj, num, str } from "../fields";
import type { Services } from "../firebase";
import { isProviderId, providerName } from "../../../functions/src/providers/catalog";

type Obj = Record<string, unknown>;

const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);
const date = (v: unknown): Date | null => {
  const s = str(v);
  const d = s ? new Date(s) : null;
  return d && !Number.isNaN(d.getTime()) ? d : null;
};
const when = (v: unknown): string => {
  const d = date(v);
  return d ? `${formatDateTime(d)} (${relative(d)})` : "—";
};
const name = (p: unknown): string => (typeof p === "string" && isProviderId(p) ? providerName(p) : String(p ?? "—"));
const words = (s: unknown): string => (typeof s === "string" ? s.replace(/_/g, " ") : "—");

function table(caption: string, head: string[], rows: HTMLElement[]): HTMLElement {
  return h(
    "table",
    { class: "runs operator-table" },
    h("caption", { class: "hint" }, caption),
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        head.map((c) => h("th", { scope: "col" }, c)),
      ),
    ),
    h("tbody", null, rows),
  );
}

function section(title: string, key: string, body: Child, hint?: string): HTMLElement {
  return h(
    "section",
    { class: "panel", "data-section": `op-${key}` },
    h("header", null, h("h2", null, title)),
    hint ? h("p", { class: "hint" }, hint) : null,
    body,
  );
}

export function operatorView(s: Services): View {
  const el = h("main", { class: "operator", "data-view": "operator" });
  let data: Obj | null = null;
  let loadError: string | null = null;
  let busy = false;
  let disposed = false;
  /** The pause whose Lift confirmation is open: `provider` or `provider\nclientId`. */
  let confirming: string | null = null;
  let note: { text: string; tone: "info" | "error" } | null = null;

  const load = async () => {
    busy = true;
    render();
    try {
      const d = await operatorCall(s, { action: "overview" });
      if (!isObj(d)) throw new ApiError("The operator view: the server's answer was not understood.", "malformed");
      data = d;
      loadError = null;
    } catch (e) {
      loadError = e instanceof ApiError ? e.message : "The operator view could not be loaded.";
    } finally {
      busy = false;
      if (!disposed) render();
    }
  };

  const lift = async (provider: ProviderId, clientId: string | undefined) => {
    const which = clientId ? `${providerName(provider)} own app ${clientId}` : providerName(provider);
    try {
      const r = await operatorCall(s, { action: "liftPause", provider, ...(clientId ? { clientId } : {}) });
      note =
        isObj(r) && r.existed === true
          ? { text: `Lifted the ${which} pause: its next sync calls ${providerName(provider)} again.`, tone: "info" }
          : { text: `${which} had no pause to lift (it may have been lifted already).`, tone: "info" };
      confirming = null;
    } catch (e) {
      note = { text: e instanceof ApiError ? e.message : "Lifting the pause failed.", tone: "error" };
    }
    await load();
  };

  const connectionsSection = (d: Obj) => {
    const c = isObj(d.connections) ? d.connections : {};
    const byProvider = isObj(c.byProvider) ? c.byProvider : {};
    const statuses = [...new Set(Object.values(byProvider).flatMap((v) => (isObj(v) ? Object.keys(v) : [])))];
    const rows = Object.entries(byProvider).map(([p, counts]) =>
      h(
        "tr",
        { "data-provider": p },
        h("th", { scope: "row" }, name(p)),
        statuses.map((st) => h("td", { "data-status": st }, String(isObj(counts) ? (num(counts[st]) ?? 0) : 0))),
      ),
    );
    return section(
      "Connections",
      "connections",
      rows.length === 0
        ? empty("No connections.")
        : table(`${num(c.total) ?? 0} connections, by provider and status`, ["Provider", ...statuses.map(words)], rows),
    );
  };

  const backlogSection = (d: Obj) => {
    const rows = list(d.backlog).map((b) => {
      const oldest = isObj(b.oldestPending) ? b.oldestPending : null;
      return h(
        "tr",
        { "data-provider": str(b.provider) ?? "" },
        h("th", { scope: "row" }, name(b.provider)),
        h("td", { "data-role": "due" }, String(num(b.dueNow) ?? 0)),
        h("td", null, b.oldestDueAt ? `since ${when(b.oldestDueAt)}` : "—"),
        h("td", { "data-role": "pending" }, String(num(b.pendingTasks) ?? 0)),
        h(
          "td",
          null,
          oldest
            ? `enqueued ${when(oldest.enqueuedAt)}${oldest.slot ? ` for the slot of ${when(oldest.slot)}` : ""}`
            : "—",
        ),
      );
    });
    return section(
      "Backlog",
      "backlog",
      table(
        "Due now: connected or in error with their next sync time passed. Pending: a task was enqueued and has not started.",
        ["Provider", "Due now", "Waiting", "Pending tasks", "Oldest pending"],
        rows,
      ),
    );
  };

  const pauseRow = (provider: string, p: Obj, clientId?: string): HTMLElement => {
    const key = clientId ? `${provider}\n${clientId}` : provider;
    const active = p.active === true;
    const label = clientId ? `${name(provider)} own app ${clientId}` : name(provider);
    const cells: Child[] = [
      h("th", { scope: "row" }, label),
      h(
        "td",
        { "data-role": "pause-state" },
        active ? `Paused until ${when(p.pausedUntil)}` : `Not paused (a pause ended ${when(p.pausedUntil)})`,
      ),
      h("td", null, `${str(p.reason) ?? ""}${p.since ? ` (since ${when(p.since)})` : ""}`),
    ];
    let action: HTMLElement;
    if (!isProviderId(provider)) action = h("span", null, "");
    else if (confirming === key) {
      action = h(
        "div",
        { class: "confirm", role: "group", "aria-label": `Lift the ${label} pause` },
        h(
          "p",
          null,
          `Lift the ${label} pause? Its syncs call ${name(provider)} again at once; if it still rate-limits, it pauses again.`,
        ),
        h(
          "div",
          { class: "actions" },
          h(
            "button",
            {
              class: "danger",
              "data-action": "confirm-lift",
              onclick: (ev: Event) => {
                const btn = ev.currentTarget as HTMLButtonElement;
                btn.disabled = true;
                btn.textContent = "Lifting…";
                void lift(provider, clientId);
              },
            },
            "Lift the pause",
          ),
          h(
            "button",
            {
              "data-action": "cancel-lift",
              onclick: () => {
                confirming = null;
                render();
              },
            },
            "Cancel",
          ),
        ),
      );
    } else {
      action = h(
        "button",
        {
          "data-action": "lift-pause",
          onclick: () => {
            confirming = key;
            note = null;
            render();
          },
        },
        "Lift",
      );
    }
    return h(
      "tr",
      { "data-provider": provider, ...(clientId ? { "data-client-id": clientId } : {}), "data-active": String(active) },
      cells,
      h("td", null, action),
    );
  };

  const pausesSection = (d: Obj) => {
    const rows: HTMLElement[] = [];
    const states: HTMLElement[] = [];
    for (const p of list(d.pauses)) {
      const provider = str(p.provider) ?? "";
      if (isObj(p.pause)) rows.push(pauseRow(provider, p.pause));
      for (const a of list(p.ownApps)) {
        const clientId = str(a.clientId);
        if (clientId) rows.push(pauseRow(provider, a, clientId));
      }
      const st = isObj(p.state) ? Object.entries(p.state) : [];
      if (st.length > 0)
        states.push(
          h(
            "p",
            { class: "hint", "data-role": "provider-state", "data-provider": provider },
            `${name(provider)}: ${st.map(([k, v]) => `${k} ${String(v)}`).join(", ")}`,
          ),
        );
    }
    return section("Provider pauses", "pauses", [
      rows.length === 0
        ? empty("No provider is paused.")
        : table(
            "App-wide pauses after a provider rate-limited the app, and own apps' pauses",
            ["Whose", "State", "Reason", ""],
            rows,
          ),
      states,
    ]);
  };

  const fanOutsSection = (d: Obj) => {
    const rows = list(d.fanOuts).map((f) => {
      const outcomes = isObj(f.outcomes)
        ? Object.entries(f.outcomes)
            .map(([o, n]) => `${words(o)} ${String(n)}`)
            .join(", ")
        : "";
      return h(
        "tr",
        { "data-slot": str(f.slot) ?? "" },
        h("th", { scope: "row" }, when(f.slot)),
        h("td", { "data-role": "runs" }, String(num(f.runs) ?? 0)),
        h("td", null, outcomes || "—"),
        h("td", { "data-role": "pending" }, String(num(f.pending) ?? 0)),
        h("td", null, Array.isArray(f.providers) ? f.providers.map(name).join(", ") : ""),
      );
    });
    return section(
      "Last fan-outs",
      "fanouts",
      rows.length === 0
        ? empty("No scheduled syncs yet.")
        : table("Newest slot first", ["Slot", "Scheduled runs", "Outcomes", "Still pending", "Providers"], rows),
      "Derived: the scheduled runs grouped by the fan-out slot they started in, and the tasks still pending by the slot they were enqueued in.",
    );
  };

  const errorsSection = (d: Obj) => {
    const rows = list(d.lastErrors).map((e) =>
      h(
        "tr",
        { "data-uid": str(e.uid) ?? "", "data-provider": str(e.provider) ?? "" },
        h("td", null, when(e.at)),
        h("td", null, name(e.provider)),
        h("td", { class: "mono" }, str(e.uid) ?? ""),
        h("td", null, words(e.status)),
        h("td", { "data-role": "code" }, words(e.code)),
        h("td", { "data-role": "message" }, str(e.message) ?? ""),
      ),
    );
    return section(
      "Last errors",
      "errors",
      rows.length === 0
        ? empty("No connection has an error.")
        : table(
            "Connections whose last sync failed, newest first",
            ["When", "Provider", "Person (uid)", "Status", "Error", "Message"],
            rows,
          ),
    );
  };

  const runsSection = (d: Obj) => {
    const rows = list(d.recentRuns).map((r) => {
      const e = isObj(r.error) ? r.error : null;
      const ms = num(r.ms);
      return h(
        "tr",
        { class: `outcome-${str(r.outcome) ?? "unknown"}`, "data-run": str(r.runId) ?? "" },
        h("td", null, when(r.finishedAt)),
        h("td", null, name(r.provider)),
        h("td", null, words(r.outcome)),
        h("td", null, words(r.reason)),
        h("td", { class: "mono" }, str(r.uid) ?? ""),
        h(
          "td",
          null,
          [
            ms !== null ? `${(ms / 1000).toFixed(1)} s` : "",
            num(r.requests) !== null ? `${num(r.requests)} requests` : "",
            e ? `${words(e.code)}: ${str(e.message) ?? ""}` : "",
            r.willRetry === true ? "will retry" : "",
          ]
            .filter(Boolean)
            .join(" · "),
        ),
      );
    });
    return section(
      "Recent runs",
      "runs",
      rows.length === 0
        ? empty("No syncs yet.")
        : table("Newest first", ["Finished", "Provider", "Outcome", "Why", "Person (uid)", "Details"], rows),
    );
  };

  function render() {
    const head = h(
      "header",
      { class: "page-head" },
      h("h1", null, "Operator"),
      h(
        "button",
        { "data-action": "refresh", disabled: busy, onclick: () => void load() },
        busy ? "Loading…" : "Refresh",
      ),
    );
    const parts: Child[] = [head];
    if (note)
      parts.push(h("p", { class: `note ${note.tone}`, role: "status", "data-role": "operator-note" }, note.text));
    if (loadError) parts.push(errorBox(loadError));
    if (!data) {
      if (!loadError) parts.push(loading("Loading the operator view…"));
    } else {
      parts.push(
        h("p", { class: "hint", "data-role": "generated-at" }, `As of ${when(data.generatedAt)}.`),
        connectionsSection(data),
        backlogSection(data),
        pausesSection(data),
        fanOutsSection(data),
        errorsSection(data),
        runsSection(data),
      );
    }
    el.replaceChildren();
    append(el, parts);
  }

  void load();
  return {
    el,
    dispose: () => {
      disposed = true;
    },
  };
}
