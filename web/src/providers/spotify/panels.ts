/**
 * Spotify's dashboard panels: playlists with covers, top tracks and artists (time-range switch),
 * recently played, then the listening history (minutes per day, hours, top lists of any dates,
 * first and last listens; web/src/history/) and a playlist's size over time.
 */
import { eraseHistory } from "../../api";
import { type Child, empty, h, relative } from "../../dom";
import { type Obj, isObj, num } from "../../fields";
import { listeningPanels } from "../../history/listening";
import { pointsPanel } from "../../history/points";
import type { SnapshotState, WebProvider } from "../types";
import { spotifyOwnApp, spotifyQuotaWords } from "./own-app";
import {
  TIME_RANGES,
  type TimeRange,
  rangeItems,
  readArtists,
  readPlaylists,
  readRecentlyPlayed,
  readTracks,
} from "./readers";

/** Spotify keeps only the latest 50 plays: more between two syncs may lose some (the gap sentence says so). */
const RECENTLY_PLAYED_WINDOW = 50;

export const spotifyWeb: WebProvider<"spotify"> = {
  snapshots: ["playlists", "top-tracks", "top-artists", "recently-played"],
  ownApp: spotifyOwnApp,
  quotaWords: spotifyQuotaWords,

  dashboard(ctx) {
    const { section, media } = ctx;
    let range: TimeRange = "short_term";

    const playlistsPanel = () => {
      const v = ctx.snapshot("playlists", "playlists");
      if (!v.ok) return section("Playlists", v.view);
      const items = readPlaylists(v.data);
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
              media.image(ctx.mirrorObject(p.id, "jpg"), `Cover of ${p.name}`),
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
                ctx.rerender();
              },
            },
            r.label,
          ),
        ),
      );

    /** One column of the top panel: the ranked items of the selected time range. */
    const ranked = <T>(snap: SnapshotState, read: (items: Obj[]) => T[], none: string, row: (x: T) => Child[]) => {
      if (!snap.ok) return snap.view;
      const list = read(rangeItems(snap.data, range));
      if (list.length === 0) return empty(none);
      return h(
        "ol",
        { class: "rank" },
        list.slice(0, 20).map((x) => h("li", null, ...row(x))),
      );
    };

    const topPanel = () => {
      const column = (title: string, body: Child) => h("div", { class: "column" }, h("h3", null, title), body);
      return section(
        "Top tracks and artists",
        h(
          "div",
          { class: "columns" },
          column(
            "Tracks",
            ranked(ctx.snapshot("top-tracks", "top tracks"), readTracks, "No top tracks for this time range.", (t) => [
              h("strong", null, t.name),
              h("span", { class: "hint" }, t.artists),
            ]),
          ),
          column(
            "Artists",
            ranked(
              ctx.snapshot("top-artists", "top artists"),
              readArtists,
              "No top artists for this time range.",
              (a) => [h("strong", null, a.name), h("span", { class: "hint" }, a.genres)],
            ),
          ),
        ),
        rangeSwitch(),
        "top",
      );
    };

    const recentPanel = () => {
      const v = ctx.snapshot("recently-played", "recently played tracks");
      if (!v.ok) return section("Recently played", v.view, null, "recent");
      const rows = readRecentlyPlayed(v.data);
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

    const listening = listeningPanels({
      store: ctx.history,
      section,
      connection: ctx.connection,
      providerName: "Spotify",
      gap: () => ctx.connection()?.historyGap ?? null,
      window: RECENTLY_PLAYED_WINDOW,
      erase: (choice) => eraseHistory(ctx.services, "spotify", choice),
    });

    // A playlist's size over time, from the daily points (`playlists`: the count; `playlistTracks`: id → tracks).
    const COUNT = "";
    let chosen = COUNT;
    const choice = h("select", { name: "playlist", "aria-label": "Playlist" });
    choice.addEventListener("change", () => {
      chosen = choice.value;
      ctx.rerender();
    });
    let choiceKey = "";
    const playlistNames = () => {
      const v = ctx.snapshot("playlists", "playlists");
      return v.ok ? readPlaylists(v.data) : [];
    };
    const sizePanel = pointsPanel({
      store: ctx.history,
      section,
      connection: ctx.connection,
      providerName: "Spotify",
      title: "Playlists over time",
      role: "playlist-size",
      what: "playlist sizes",
      valueLabel: "Tracks",
      above: h("label", { class: "inline" }, "Show ", choice),
      pick: () => {
        const lists = playlistNames();
        const key = JSON.stringify(lists.map((p) => [p.id, p.name]));
        if (key !== choiceKey) {
          choiceKey = key;
          choice.replaceChildren(
            h("option", { value: COUNT }, "Number of playlists"),
            ...lists.map((p) => h("option", { value: p.id }, p.name)),
          );
          if (chosen !== COUNT && !lists.some((p) => p.id === chosen)) chosen = COUNT;
          choice.value = chosen;
        }
        if (chosen === COUNT) return { name: "Number of playlists", pick: (pt) => num(pt.playlists) };
        const name = lists.find((p) => p.id === chosen)?.name ?? "The playlist";
        return {
          name: `Tracks in ${name}`,
          pick: (pt) => (isObj(pt.playlistTracks) ? num(pt.playlistTracks[chosen]) : null),
        };
      },
    });

    return () => [playlistsPanel(), topPanel(), recentPanel(), ...listening(), sizePanel()];
  },
};
