/**
 * The dashboard: each provider's panels (web/src/providers/<id>/, in catalog order), a summary of
 * the connections and the sync history. Everything follows the signed-in person's documents
 * live; the security rules make sure nothing else can be read. This file knows no provider: it
 * follows the snapshots each provider's panels list (WEB_PROVIDERS), reassembles parted ones and
 * hands the panels their state.
 */
import {
  type DocumentData,
  type Unsubscribe,
  collection,
  doc,
  getDocs,
  limit,
  onSnapshot,
  orderBy,
  query,
  where,
} from "firebase/firestore";
import { firestorePaths, storagePaths } from "../../../functions/src/paths";
import {
  CATALOG,
  type CatalogEntry,
  type ProviderId,
  isProviderId,
  providerName,
} from "../../../functions/src/providers/catalog";
import { type Child, type View, append, empty, errorBox, formatDateTime, h, loading, relative } from "../dom";
import type { Services } from "../firebase";
import { createHistoryStore } from "../history/store";
import type { MediaLoader } from "../media";
import { brandMark } from "../providers/brand";
import { WEB_PROVIDERS } from "../providers/registry";
import type { SnapshotState } from "../providers/types";
import { decodeParts } from "../readers";
import { type ConnectionView, describeConnection, readConnection, toDate } from "../status";
import { exportView } from "./export";
import { importView } from "./import";

type Snap =
  | { state: "loading" }
  | { state: "missing" }
  | { state: "ok"; data: DocumentData }
  | { state: "error"; message: string };

/** Every snapshot some provider's panels follow. */
const SNAPSHOTS: { provider: ProviderId; name: string }[] = CATALOG.flatMap((e) =>
  WEB_PROVIDERS[e.id].snapshots.map((name: string) => ({ provider: e.id, name })),
);

/** "Spotify or Instagram", "A, B or C": the providers' names. */
const providerNames = (): string => {
  const names = CATALOG.map((e) => e.name);
  return names.length > 1 ? `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}` : (names[0] ?? "");
};

export function dashboardView(s: Services, uid: string, media: MediaLoader): View {
  const el = h("main", { class: "dashboard" });
  const connections: Partial<Record<ProviderId, ConnectionView | null>> = {};
  let connectionsLoaded = false;
  let connectionsError: string | null = null;
  const snaps = new Map<string, Snap>(SNAPSHOTS.map((x) => [`${x.provider}/${x.name}`, { state: "loading" }]));
  let runs: { state: "loading" } | { state: "ok"; rows: DocumentData[] } | { state: "error"; message: string } = {
    state: "loading",
  };
  const unsubs: Unsubscribe[] = [];
  let scheduled = false;

  const render = () => {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      el.replaceChildren();
      append(el, content());
    });
  };

  const snapOf = (p: ProviderId, name: string) => snaps.get(`${p}/${name}`) ?? { state: "loading" as const };

  const section = (title: string, body: Child, extra?: Child, role?: string) =>
    h(
      "section",
      { class: "panel", "data-section": role ?? title.toLowerCase() },
      h("header", null, h("h2", null, title), extra),
      body,
    );

  /** A snapshot for a panel: its data, or the loading / not-synced-yet / error state shared by every panel. */
  const snapState = (p: ProviderId, snapshot: string, what: string): SnapshotState => {
    const c = connections[p];
    const snap = snapOf(p, snapshot);
    if (snap.state === "ok") return { ok: true, data: snap.data };
    if (snap.state === "loading") return { ok: false, view: loading(`Loading ${what}…`) };
    if (snap.state === "error") return { ok: false, view: errorBox(`Your ${what} could not be loaded.`, snap.message) };
    if (!c || c.status === "disconnected") {
      return {
        ok: false,
        view: empty(
          `Connect ${providerName(p)} to see your ${what} here.`,
          h("a", { href: "#/connections" }, "Go to Connections"),
        ),
      };
    }
    const words = describeConnection(c);
    return {
      ok: false,
      view: empty(
        c.lastSuccessAt ? `No ${what} in the last sync.` : `Your ${what} appear here after the first sync.`,
        `${providerName(p)}: ${words.label}${words.detail ? ` — ${words.detail}` : ""}`,
      ),
    };
  };

  /** Each provider's panels, in catalog order: mounted once, rendered on every render. */
  const mount = <P extends ProviderId>(provider: P): (() => Child[]) => {
    const history = createHistoryStore(s.db, uid, provider, render);
    unsubs.push(() => history.dispose());
    return WEB_PROVIDERS[provider].dashboard({
      provider,
      uid,
      media,
      section,
      snapshot: (name, what) => snapState(provider, name, what),
      connection: () => connections[provider] ?? null,
      mirrorObject: (itemId, ext) => storagePaths.mirrorObject(uid, provider, itemId, ext),
      rerender: render,
      history,
      services: s,
    });
  };
  const panels = CATALOG.map((e) => mount(e.id));
  /** "Import your Spotify history": mounted once, so an upload survives re-renders. */
  const importer = importView(s, uid);
  unsubs.push(() => importer.dispose());
  const exporter = exportView(s, uid);
  unsubs.push(() => exporter.dispose());

  const historyPanel = () => {
    if (runs.state === "loading") return section("Sync history", loading("Loading the sync history…"), null, "history");
    if (runs.state === "error")
      return section("Sync history", errorBox("The sync history could not be loaded.", runs.message), null, "history");
    if (runs.rows.length === 0) return section("Sync history", empty("No syncs yet."), null, "history");
    // Hourly syncs that find nothing new are counted on the connection, not listed one by one.
    const quiet = CATALOG.flatMap((e) => {
      const c = connections[e.id];
      if (!c || c.quietRuns === 0) return [];
      const last = c.lastSyncAt ? `, the last at ${formatDateTime(c.lastSyncAt)}` : "";
      const syncs = c.quietRuns === 1 ? "1 more sync" : `${c.quietRuns} more syncs`;
      return [h("p", { class: "quiet-runs" }, `${providerName(e.id)}: ${syncs} since found nothing new${last}.`)];
    });
    return section(
      "Sync history",
      [
        ...quiet,
        h(
          "table",
          { class: "runs" },
          h(
            "thead",
            null,
            h(
              "tr",
              null,
              h("th", null, "When"),
              h("th", null, "Provider"),
              h("th", null, "Outcome"),
              h("th", null, "Details"),
            ),
          ),
          h(
            "tbody",
            null,
            runs.rows.map((r) => {
              const started = toDate(r.startedAt) ?? toDate(r.finishedAt);
              const finished = toDate(r.finishedAt);
              const outcome =
                typeof r.outcome === "string" ? r.outcome : typeof r.status === "string" ? r.status : "running";
              const err =
                r.error && typeof r.error === "object" ? String((r.error as { message?: unknown }).message ?? "") : "";
              const counts =
                r.counts && typeof r.counts === "object"
                  ? Object.entries(r.counts as Record<string, unknown>)
                      .filter(([, v]) => typeof v === "number")
                      .map(([k, v]) => `${k} ${v}`)
                      .join(", ")
                  : "";
              const took =
                started && finished ? `${((finished.getTime() - started.getTime()) / 1000).toFixed(1)} s` : "";
              return h(
                "tr",
                { class: `outcome-${outcome}` },
                h("td", null, started ? formatDateTime(started) : "—"),
                h("td", null, typeof r.provider === "string" ? providerName(r.provider) : "—"),
                h("td", null, outcome.replace(/_/g, " ")),
                h("td", null, [took, counts, err].filter(Boolean).join(" · ")),
              );
            }),
          ),
        ),
      ],
      null,
      "history",
    );
  };

  const content = (): Child[] => {
    const head = h("header", { class: "page-head" }, h("h1", null, "Dashboard"));
    if (connectionsError) return [head, errorBox("Your data could not be loaded.", connectionsError)];
    if (!connectionsLoaded) return [head, loading("Loading your data…")];
    const any = CATALOG.some((e) => {
      const c = connections[e.id];
      return c && c.status !== "disconnected";
    });
    const anyData = [...snaps.values()].some((x) => x.state === "ok");
    if (!any && !anyData) {
      return [
        head,
        empty("Nothing synced yet.", [
          `Connect ${providerNames()} on the `,
          h("a", { href: "#/connections" }, "Connections"),
          " page; your data appears here after the first sync.",
        ]),
        historyPanel(),
        exporter.el,
      ];
    }
    const summary = h(
      "p",
      { class: "summary" },
      CATALOG.map((e) => {
        const c = connections[e.id] ?? null;
        const w = describeConnection(c);
        return h(
          "span",
          { class: `pill ${w.tone}`, "data-provider": e.id },
          brandMark(e, { dot: true }),
          `${e.name}: ${w.label}`,
          c?.lastSuccessAt && c.status !== "disconnected" ? ` · synced ${relative(c.lastSuccessAt)}` : "",
        );
      }),
    );
    return [
      head,
      summary,
      // The import card right after the panels of the provider that keeps a play log (its charts).
      ...panels.flatMap((render, i) =>
        (CATALOG[i] as CatalogEntry | undefined)?.plays ? [...render(), importer.el] : render(),
      ),
      historyPanel(),
      exporter.el,
    ];
  };

  unsubs.push(
    onSnapshot(
      collection(s.db, firestorePaths.connections(uid)),
      (snap) => {
        for (const e of CATALOG) connections[e.id] = null;
        for (const d of snap.docs) if (isProviderId(d.id)) connections[d.id] = readConnection(d.data());
        connectionsLoaded = true;
        render();
      },
      (e) => {
        connectionsError = e.message;
        render();
      },
    ),
  );

  for (const { provider, name } of SNAPSHOTS) {
    const key = `${provider}/${name}`;
    const path = firestorePaths.snapshot(uid, provider, name);
    unsubs.push(
      onSnapshot(
        doc(s.db, path),
        async (d) => {
          if (!d.exists()) {
            snaps.set(key, { state: "missing" });
            return render();
          }
          const head = d.data();
          let data: DocumentData;
          try {
            if (head.storage === "parts") {
              // Too large for one document: reassemble the parts of the current generation.
              const parts = await getDocs(
                query(
                  collection(s.db, firestorePaths.snapshotParts(uid, provider, name)),
                  where("generation", "==", head.generation),
                ),
              );
              data = decodeParts(
                parts.docs.map((p) => p.data() as { index: number; bytes: { toUint8Array(): Uint8Array } }),
              ) as DocumentData;
            } else {
              data = (head.storage === "inline" ? head.data : head) as DocumentData;
            }
          } catch (e) {
            snaps.set(key, { state: "error", message: (e as Error).message });
            return render();
          }
          snaps.set(key, { state: "ok", data });
          render();
        },
        (e) => {
          snaps.set(key, { state: "error", message: e.message });
          render();
        },
      ),
    );
  }

  unsubs.push(
    onSnapshot(
      query(collection(s.db, firestorePaths.syncRuns(uid)), orderBy("startedAt", "desc"), limit(15)),
      (snap) => {
        runs = { state: "ok", rows: snap.docs.map((d) => d.data()) };
        render();
      },
      (e) => {
        runs = { state: "error", message: e.message };
        render();
      },
    ),
  );

  append(el, content());
  return { el, dispose: () => unsubs.forEach((u) => u()) };
}
