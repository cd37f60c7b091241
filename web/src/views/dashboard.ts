/**
 * The dashboard: Spotify playlists with covers, top tracks and artists (time-range switch),
 * recently played, the Instagram media grid, and the sync history. Everything follows the
 * signed-in person's documents live; the security rules make sure nothing else can be read.
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
import type { ProviderId } from "../api";
import { type Child, type View, append, empty, errorBox, formatDateTime, h, loading, relative } from "../dom";
import type { Services } from "../firebase";
import type { MediaLoader } from "../media";
import {
  TIME_RANGES,
  type TimeRange,
  decodeParts,
  httpsUrl,
  rangeItems,
  readArtists,
  readMedia,
  readPlaylists,
  readRecentlyPlayed,
  readTracks,
} from "../readers";
import { type ConnectionView, describeConnection, readConnection, toDate } from "../status";
import { PROVIDER_INFO } from "./connections";

type Snap =
  | { state: "loading" }
  | { state: "missing" }
  | { state: "ok"; data: DocumentData }
  | { state: "error"; message: string };

const SNAPSHOTS: { provider: ProviderId; name: string }[] = [
  { provider: "spotify", name: "playlists" },
  { provider: "spotify", name: "top-tracks" },
  { provider: "spotify", name: "top-artists" },
  { provider: "spotify", name: "recently-played" },
  { provider: "instagram", name: "media" },
];

export function dashboardView(s: Services, uid: string, media: MediaLoader): View {
  const el = h("main", { class: "dashboard" });
  const connections: Partial<Record<ProviderId, ConnectionView | null>> = {};
  let connectionsLoaded = false;
  let connectionsError: string | null = null;
  const snaps = new Map<string, Snap>(SNAPSHOTS.map((x) => [`${x.provider}/${x.name}`, { state: "loading" }]));
  let runs: { state: "loading" } | { state: "ok"; rows: DocumentData[] } | { state: "error"; message: string } = {
    state: "loading",
  };
  let range: TimeRange = "short_term";
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

  /** Loading / not-synced-yet / error states shared by every snapshot panel. */
  const snapState = (p: ProviderId, name: string, what: string): Child | DocumentData => {
    const c = connections[p];
    const snap = snapOf(p, name);
    if (snap.state === "loading") return loading(`Loading ${what}…`);
    if (snap.state === "error") return errorBox(`Your ${what} could not be loaded.`, snap.message);
    if (snap.state === "missing") {
      if (!c || c.status === "disconnected") {
        return empty(
          `Connect ${PROVIDER_INFO[p].name} to see your ${what} here.`,
          h("a", { href: "#/connections" }, "Go to Connections"),
        );
      }
      const words = describeConnection(c);
      return empty(
        c.lastSuccessAt ? `No ${what} in the last sync.` : `Your ${what} appear here after the first sync.`,
        `${PROVIDER_INFO[p].name}: ${words.label}${words.detail ? ` — ${words.detail}` : ""}`,
      );
    }
    return snap.data;
  };

  const isData = (v: unknown): v is DocumentData => typeof v === "object" && v !== null && !(v instanceof Node);

  const playlistsPanel = () => {
    const v = snapState("spotify", "playlists", "playlists");
    if (!isData(v)) return section("Playlists", v);
    const items = readPlaylists(v);
    if (items.length === 0) return section("Playlists", empty("You have no playlists on Spotify yet."));
    return section(
      "Playlists",
      h(
        "ul",
        { class: "grid playlists" },
        items.map((p) =>
          h(
            "li",
            { class: "tile", "data-playlist": p.id },
            media.image(storagePaths.mirrorObject(uid, "spotify", p.id, "jpg"), `Cover of ${p.name}`),
            h("strong", null, p.name),
            h(
              "span",
              { class: "hint" },
              [p.tracks !== null ? `${p.tracks} tracks` : null, p.owner].filter(Boolean).join(" · "),
            ),
          ),
        ),
      ),
      h("span", { class: "hint" }, `${items.length}`),
    );
  };

  const rangeSwitch = () =>
    h(
      "div",
      { class: "segmented", role: "radiogroup", "aria-label": "Time range" },
      TIME_RANGES.map((r) =>
        h(
          "button",
          {
            role: "radio",
            "aria-checked": String(r.id === range),
            class: r.id === range ? "on" : "",
            "data-range": r.id,
            onclick: () => {
              range = r.id;
              render();
            },
          },
          r.label,
        ),
      ),
    );

  const topPanel = () => {
    const tracks = snapState("spotify", "top-tracks", "top tracks");
    const artists = snapState("spotify", "top-artists", "top artists");
    const trackList = isData(tracks) ? readTracks(rangeItems(tracks, range)) : null;
    const artistList = isData(artists) ? readArtists(rangeItems(artists, range)) : null;
    const column = (title: string, body: Child) => h("div", { class: "column" }, h("h3", null, title), body);
    return section(
      "Top tracks and artists",
      h(
        "div",
        { class: "columns" },
        column(
          "Tracks",
          trackList === null
            ? (tracks as Child)
            : trackList.length === 0
              ? empty("No top tracks for this time range.")
              : h(
                  "ol",
                  { class: "rank" },
                  trackList
                    .slice(0, 20)
                    .map((t) => h("li", null, h("strong", null, t.name), h("span", { class: "hint" }, t.artists))),
                ),
        ),
        column(
          "Artists",
          artistList === null
            ? (artists as Child)
            : artistList.length === 0
              ? empty("No top artists for this time range.")
              : h(
                  "ol",
                  { class: "rank" },
                  artistList
                    .slice(0, 20)
                    .map((a) => h("li", null, h("strong", null, a.name), h("span", { class: "hint" }, a.genres))),
                ),
        ),
      ),
      rangeSwitch(),
      "top",
    );
  };

  const recentPanel = () => {
    const v = snapState("spotify", "recently-played", "recently played tracks");
    if (!isData(v)) return section("Recently played", v, null, "recent");
    const rows = readRecentlyPlayed(v);
    if (rows.length === 0) return section("Recently played", empty("Nothing played recently."), null, "recent");
    return section(
      "Recently played",
      h(
        "ul",
        { class: "plays" },
        rows
          .slice(0, 30)
          .map((r) =>
            h(
              "li",
              null,
              h("strong", null, r.name),
              h("span", { class: "hint" }, r.artists),
              r.playedAt ? h("time", { datetime: r.playedAt.toISOString() }, relative(r.playedAt)) : null,
            ),
          ),
      ),
      null,
      "recent",
    );
  };

  const mediaPanel = () => {
    const v = snapState("instagram", "media", "Instagram posts");
    if (!isData(v)) return section("Instagram", v, null, "instagram");
    const tiles = readMedia(v);
    if (tiles.length === 0)
      return section("Instagram", empty("No posts on this Instagram account yet."), null, "instagram");
    return section(
      "Instagram",
      h(
        "ul",
        { class: "grid media-grid" },
        tiles.map((m) =>
          h(
            "li",
            { class: "tile", "data-media": m.id },
            h(
              "div",
              { class: "frame" },
              m.image
                ? media.image(
                    storagePaths.mirrorObject(uid, "instagram", m.image.id, m.image.ext),
                    m.caption || `Instagram ${m.type.toLowerCase()}`,
                  )
                : h("div", { class: "media missing" }, h("span", { class: "placeholder" }, "no preview")),
              m.type === "VIDEO" ? h("span", { class: "badge" }, "▶ video") : null,
              m.children > 1 ? h("span", { class: "badge" }, `1/${m.children}`) : null,
            ),
            m.caption ? h("span", { class: "caption" }, m.caption) : null,
            h(
              "span",
              { class: "hint" },
              m.timestamp ? formatDateTime(m.timestamp) : "",
              // readMedia keeps only https: permalinks; checked again where it becomes a link.
              m.permalink && httpsUrl(m.permalink)
                ? [" · ", h("a", { href: m.permalink, target: "_blank", rel: "noopener noreferrer" }, "open")]
                : null,
            ),
          ),
        ),
      ),
      h("span", { class: "hint" }, `${tiles.length}`),
      "instagram",
    );
  };

  const historyPanel = () => {
    if (runs.state === "loading") return section("Sync history", loading("Loading the sync history…"), null, "history");
    if (runs.state === "error")
      return section("Sync history", errorBox("The sync history could not be loaded.", runs.message), null, "history");
    if (runs.rows.length === 0) return section("Sync history", empty("No syncs yet."), null, "history");
    return section(
      "Sync history",
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
            const took = started && finished ? `${((finished.getTime() - started.getTime()) / 1000).toFixed(1)} s` : "";
            return h(
              "tr",
              { class: `outcome-${outcome}` },
              h("td", null, started ? formatDateTime(started) : "—"),
              h(
                "td",
                null,
                typeof r.provider === "string" ? (PROVIDER_INFO[r.provider as ProviderId]?.name ?? r.provider) : "—",
              ),
              h("td", null, outcome.replace(/_/g, " ")),
              h("td", null, [took, counts, err].filter(Boolean).join(" · ")),
            );
          }),
        ),
      ),
      null,
      "history",
    );
  };

  const content = (): Child[] => {
    const head = h("header", { class: "page-head" }, h("h1", null, "Dashboard"));
    if (connectionsError) return [head, errorBox("Your data could not be loaded.", connectionsError)];
    if (!connectionsLoaded) return [head, loading("Loading your data…")];
    const any = (["spotify", "instagram"] as ProviderId[]).some(
      (p) => connections[p] && connections[p].status !== "disconnected",
    );
    const anyData = [...snaps.values()].some((x) => x.state === "ok");
    if (!any && !anyData) {
      return [
        head,
        empty("Nothing synced yet.", [
          "Connect Spotify or Instagram on the ",
          h("a", { href: "#/connections" }, "Connections"),
          " page; your data appears here after the first sync.",
        ]),
        historyPanel(),
      ];
    }
    const summary = h(
      "p",
      { class: "summary" },
      (["spotify", "instagram"] as ProviderId[]).map((p) => {
        const c = connections[p] ?? null;
        const w = describeConnection(c);
        return h(
          "span",
          { class: `pill ${w.tone}`, "data-provider": p },
          `${PROVIDER_INFO[p].name}: ${w.label}`,
          c?.lastSuccessAt && c.status !== "disconnected" ? ` · synced ${relative(c.lastSuccessAt)}` : "",
        );
      }),
    );
    return [head, summary, playlistsPanel(), topPanel(), recentPanel(), mediaPanel(), historyPanel()];
  };

  unsubs.push(
    onSnapshot(
      collection(s.db, firestorePaths.connections(uid)),
      (snap) => {
        connections.spotify = null;
        connections.instagram = null;
        for (const d of snap.docs)
          if (d.id === "spotify" || d.id === "instagram") connections[d.id] = readConnection(d.data());
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
