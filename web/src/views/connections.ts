/**
 * Connections: each provider's status in words, last successful sync, and the actions
 * Connect / Sync now / Disconnect. Live: the page follows the connection documents. A provider
 * that lets people bring their own app (`ownApp` in its web module) gets that section on its card
 * (views/own-app.ts) and a connect button per app the server offers.
 */
import { collection, onSnapshot } from "firebase/firestore";
import { firestorePaths } from "../../../functions/src/paths";
import { CATALOG, type Catalog, type CatalogEntry, isProviderId } from "../../../functions/src/providers/catalog";
import { ApiError, type AppChoice, type ProviderId, disconnect, startConnect, syncNow } from "../api";
import { type View, errorBox, formatDateTime, h, heldWhilePressed, loading, relative } from "../dom";
import type { Services } from "../firebase";
import { brandMark } from "../providers/brand";
import { WEB_PROVIDERS } from "../providers/registry";
import { type ConnectionView, describeConnection, readConnection, syncRefusedText } from "../status";
import { type OwnAppPanel, ownAppPanel } from "./own-app";

/** The connection's counts in the provider's words ("7 playlists · 20 top tracks"); counts without words are left out. */
function countsText(counts: Record<string, number>, labels: Readonly<Record<string, string>>): string {
  return Object.entries(counts)
    .filter(([k]) => Object.hasOwn(labels, k))
    .map(([k, v]) => `${v} ${labels[k]}`)
    .join(" · ");
}

/** How often a provider syncs by default, in words ("every hour", "every 6 hours"). */
function cadenceText(entry: Catalog[number]): string {
  const minutes = (entry as CatalogEntry).syncInterval?.default ?? 60;
  if (minutes <= 60) return "every hour";
  return minutes % 60 === 0 ? `every ${minutes / 60} hours` : `every ${minutes} minutes`;
}

/** The provider's terms make a disconnect delete its data and revoke its access (catalog `dataPolicy`). */
const deletesOnDisconnect = (entry: Catalog[number]) => (entry as CatalogEntry).dataPolicy?.deleteOnDisconnect === true;

export function connectionsView(s: Services, uid: string, flash: HTMLElement | null): View {
  const list = h("div", { class: "cards" }, loading("Loading your connections…"));
  const el = h("main", null, h("h1", null, "Connections"), flash, list);
  const current: Partial<Record<ProviderId, ConnectionView | null>> = {};
  /** Per provider: the time until which Sync now is refused, and the sentence saying why. */
  const cooldown: Partial<Record<ProviderId, { until: Date; text: string }>> = {};
  const notes: Partial<Record<ProviderId, { text: string; tone: "info" | "error" }>> = {};
  const confirming = new Set<ProviderId>();
  /** The "also delete the data" choice of an open confirmation: cards are rebuilt, the choice is not lost. */
  const deleteChoice = new Map<ProviderId, boolean>();
  /** Providers whose Sync now is waiting for the server's answer: a rebuilt card keeps saying so. */
  const asking = new Set<ProviderId>();
  let loaded = false;

  // Cards are rebuilt on every change, but not under a pressed button (dom.ts, heldWhilePressed).
  // The cards wait for the own-app answers too, so they appear once, without their buttons moving.
  const render = heldWhilePressed(list, () => {
    if (!loaded || Object.values(ownApps).some((o) => !o.loaded())) return;
    // Cards are rebuilt; an own-app form is kept (views/own-app.ts), and so is its focus.
    const active = document.activeElement;
    const selection =
      active instanceof HTMLInputElement ? ([active.selectionStart, active.selectionEnd] as const) : null;
    list.replaceChildren(...CATALOG.map((e) => card(e)));
    if (active instanceof HTMLElement && active !== document.activeElement && list.contains(active)) {
      active.focus({ preventScroll: true });
      if (selection && active instanceof HTMLInputElement && selection[0] !== null && selection[1] !== null) {
        active.setSelectionRange(selection[0], selection[1]);
      }
    }
  });

  /** Per provider with own apps: its section, which also asks the server which apps are offered. */
  const ownApps: Partial<Record<ProviderId, OwnAppPanel>> = {};
  for (const e of CATALOG) {
    const support = WEB_PROVIDERS[e.id].ownApp;
    if (support) {
      ownApps[e.id] = ownAppPanel(s, e.id, e.name, support, {
        connection: () => current[e.id] ?? null,
        changed: render,
      });
    }
  }

  const card = (entry: Catalog[number]): HTMLElement => {
    const { id: p, name } = entry;
    const c = current[p] ?? null;
    const now = new Date();
    const words = describeConnection(c, now, WEB_PROVIDERS[p].quotaWords);
    const cd = cooldown[p] && cooldown[p].until > now ? cooldown[p] : undefined;
    const note = notes[p];
    const actions = h("div", { class: "actions" });
    const own = ownApps[p]?.description() ?? null;
    const ownSupport = WEB_PROVIDERS[p].ownApp;
    const ownOffered = own !== null && own.mode !== "shared";
    /** Sentences next to the connect buttons (what is missing before the own app can be used). */
    const connectHints: HTMLElement[] = [];

    /** A connect button; `app` absent: the server picks (its setting's default). */
    const connectButton = (action: string, label: string, app: AppChoice | undefined, disabled: boolean) =>
      h(
        "button",
        {
          class: "primary",
          "data-action": action,
          disabled,
          onclick: async (ev: Event) => {
            const btn = ev.currentTarget as HTMLButtonElement;
            btn.disabled = true;
            btn.textContent = "Opening consent page…";
            try {
              location.assign(await startConnect(s, p, "/#/connections", app));
            } catch (e) {
              notes[p] = { text: e instanceof ApiError ? e.message : "Connecting could not start.", tone: "error" };
              render();
            }
          },
        },
        label,
      );

    if (words.canConnect) {
      const plain = c && c.status !== "disconnected" ? `Reconnect ${name}` : `Connect ${name}`;
      if (own?.mode === "both") {
        actions.append(
          connectButton("connect", "Connect with the app of this site", "shared", false),
          connectButton("connect-own", "Connect with my own app", "own", !own.app),
        );
        if (!own.app) {
          connectHints.push(
            h(
              "p",
              { class: "hint", "data-role": "connect-own-blocked" },
              "To connect with your own app, save it below first.",
            ),
          );
        }
      } else if (own?.mode === "own") {
        actions.append(connectButton("connect", plain, "own", !own.app));
        if (!own.app) {
          connectHints.push(
            h(
              "p",
              { class: "hint", "data-role": "connect-own-blocked" },
              `Save your own ${name} app below first: ${name} is connected here only through your own app.`,
            ),
          );
        }
      } else {
        actions.append(connectButton("connect", plain, undefined, false));
      }
      if (ownOffered && own.app && ownSupport)
        connectHints.push(h("div", null, ownSupport.redirectHint(own.redirectUri)));
    }
    if (c && c.status !== "disconnected" && c.status !== "needs_reauth") {
      actions.append(
        h(
          "button",
          {
            "data-action": "sync",
            disabled: !words.canSync || Boolean(cd) || asking.has(p),
            title: cd ? cd.text : undefined,
            onclick: async (ev: Event) => {
              const btn = ev.currentTarget as HTMLButtonElement;
              btn.disabled = true;
              btn.textContent = "Asking for a sync…";
              asking.add(p);
              try {
                const r = await syncNow(s, p);
                notes[p] = { text: r.message, tone: "info" };
                if (r.nextAllowedAt) {
                  cooldown[p] = {
                    until: r.nextAllowedAt,
                    text: `Sync now is possible again at ${formatDateTime(r.nextAllowedAt)}.`,
                  };
                }
              } catch (e) {
                const err = e instanceof ApiError ? e : new ApiError("Sync now failed.", "unknown");
                if (err.retryAt) {
                  cooldown[p] = {
                    until: err.retryAt,
                    text: syncRefusedText(
                      name,
                      err.reason,
                      `Sync now is possible again ${relative(err.retryAt)} (${formatDateTime(err.retryAt)}).`,
                    ),
                  };
                  delete notes[p]; // the cooldown line says it
                } else {
                  notes[p] = { text: err.message, tone: "error" };
                }
              }
              asking.delete(p);
              render();
            },
          },
          asking.has(p) ? "Asking for a sync…" : "Sync now",
        ),
      );
    }
    if (c && c.status !== "disconnected") {
      actions.append(
        h(
          "button",
          {
            class: "danger",
            "data-action": "disconnect",
            onclick: () => {
              confirming.add(p);
              render();
            },
          },
          "Disconnect",
        ),
      );
    }

    let confirm: HTMLElement | null = null;
    if (confirming.has(p)) {
      const del = h("input", {
        type: "checkbox",
        name: "deleteData",
        checked: deleteChoice.get(p) ?? false,
        onchange: (ev: Event) => deleteChoice.set(p, (ev.currentTarget as HTMLInputElement).checked),
      });
      const forced = deletesOnDisconnect(entry);
      confirm = h(
        "div",
        { class: "confirm", role: "group", "aria-label": `Disconnect ${name}` },
        h("p", null, `Disconnect ${name}? Syncing stops and the stored authorization is deleted.`),
        forced
          ? h(
              "p",
              { class: "hint", "data-role": "deletes-data" },
              `The ${name} data synced here is deleted too, and this app's access is revoked at ${name}. ` +
                `Nothing stored on ${name} itself changes.`,
            )
          : h("label", { class: "check" }, del, "Also delete the synced data (playlists, posts and images)"),
        h(
          "div",
          { class: "actions" },
          h(
            "button",
            {
              class: "danger",
              "data-action": "confirm-disconnect",
              onclick: async (ev: Event) => {
                const btn = ev.currentTarget as HTMLButtonElement;
                btn.disabled = true;
                btn.textContent = "Disconnecting…";
                try {
                  const deleteData = forced || del.checked;
                  await disconnect(s, p, deleteData);
                  notes[p] = {
                    text: deleteData
                      ? "Disconnected, and the synced data was deleted."
                      : "Disconnected. The synced data was kept.",
                    tone: "info",
                  };
                  confirming.delete(p);
                  deleteChoice.delete(p);
                } catch (e) {
                  notes[p] = { text: e instanceof ApiError ? e.message : "Disconnecting failed.", tone: "error" };
                }
                render();
              },
            },
            "Disconnect",
          ),
          h(
            "button",
            {
              onclick: () => {
                confirming.delete(p);
                deleteChoice.delete(p);
                render();
              },
            },
            "Cancel",
          ),
        ),
      );
    }

    const counts = c ? countsText(c.counts, entry.countLabels) : "";
    return h(
      "section",
      { class: `card connection tone-${words.tone}`, "data-provider": p, "data-status": c?.status ?? "none" },
      h(
        "header",
        null,
        brandMark(entry),
        h("h2", null, name),
        c?.providerAccountName && c.status !== "disconnected"
          ? h("span", { class: "account" }, c.providerAccountName)
          : null,
      ),
      h("p", { class: `status ${words.tone}`, "data-role": "status" }, words.label),
      words.detail ? h("p", { class: "detail" }, words.detail) : null,
      !c || c.status === "disconnected"
        ? h("p", { class: "hint" }, `Connect to sync ${entry.blurb} ${cadenceText(entry)}.`)
        : h(
            "p",
            { class: "meta", "data-role": "last-success" },
            "Last successful sync: ",
            c.lastSuccessAt
              ? h(
                  "time",
                  { datetime: c.lastSuccessAt.toISOString(), title: formatDateTime(c.lastSuccessAt) },
                  relative(c.lastSuccessAt, now),
                )
              : "not yet",
            counts ? ` — ${counts}` : "",
          ),
      c && c.status !== "disconnected" && ownSupport && (ownOffered || c.app)
        ? h(
            "p",
            { class: "meta", "data-role": "which-app" },
            c.app
              ? ["Through your own app ", h("code", null, c.app.clientId), "."]
              : `Through the ${name} app of this site.`,
          )
        : null,
      WEB_PROVIDERS[p].connectionNote?.(c) ?? null,
      cd ? h("p", { class: "cooldown", "data-role": "cooldown" }, cd.text) : null,
      note ? h("p", { class: `note ${note.tone}`, role: "status", "data-role": "note" }, note.text) : null,
      actions,
      connectHints,
      confirm,
      ownApps[p]?.el ?? null,
    );
  };

  const unsubscribe = onSnapshot(
    collection(s.db, firestorePaths.connections(uid)),
    (snap) => {
      for (const e of CATALOG) current[e.id] = null;
      for (const d of snap.docs) {
        if (isProviderId(d.id)) current[d.id] = readConnection(d.data());
      }
      loaded = true;
      render();
    },
    (e) => {
      list.replaceChildren(errorBox("Your connections could not be loaded.", e.message));
    },
  );
  // Relative times, leases and cooldowns change with time alone.
  const tick = window.setInterval(render, 10_000);

  return {
    el,
    dispose: () => {
      unsubscribe();
      window.clearInterval(tick);
    },
  };
}
