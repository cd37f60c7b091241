/**
 * YouTube's dashboard panels: the channel's statistics, liked videos, subscriptions and playlists,
 * and the line on its Connections card.
 *
 * Thumbnails are YouTube's public URLs, shown by an <img> directly (no referrer, loaded lazily):
 * YouTube's policies leave them with YouTube, so nothing goes through Storage or the media
 * function. Its policies also ask for the data to be attributed to YouTube, with links to
 * YouTube's Terms of Service and Google's Privacy Policy, and for a way to revoke access.
 */
import { type Child, empty, h } from "../../dom";
import type { WebProvider } from "../types";
import {
  type PrivacyStatus,
  formatDuration,
  readLikedVideos,
  readSubscriptions,
  readYoutubeChannel,
  readYoutubePlaylists,
} from "./readers";

export const YOUTUBE_TERMS_URL = "https://www.youtube.com/t/terms";
export const GOOGLE_PRIVACY_URL = "https://policies.google.com/privacy";
export const GOOGLE_PERMISSIONS_URL = "https://myaccount.google.com/permissions";

/** Lists longer than this show their first items and a "Show all" button. */
const SHOWN = { liked: 24, subscriptions: 36, playlists: 24 } as const;
type Listing = keyof typeof SHOWN;

const PRIVACY_WORDS: Record<PrivacyStatus, string> = { public: "Public", unlisted: "Unlisted", private: "Private" };

const external = (href: string, text: Child, attrs: Record<string, string> = {}) =>
  h("a", { href, target: "_blank", rel: "noopener noreferrer", ...attrs }, text);

const formatCount = (n: number) => n.toLocaleString();

const plural = (n: number, one: string, many: string) => `${formatCount(n)} ${n === 1 ? one : many}`;

/**
 * A thumbnail from YouTube's public URL: lazy, without a referrer (both set before `src`, so the
 * first request already has them); a placeholder when there is none or it does not load.
 */
function thumbnail(url: string | null, alt: string, shape: "video" | "channel"): HTMLElement {
  const frame = h("div", { class: `thumb ${shape}` });
  const missing = () => {
    frame.classList.add("missing");
    frame.replaceChildren(h("span", { class: "placeholder" }, "no thumbnail"));
  };
  if (!url) {
    missing();
    return frame;
  }
  frame.append(
    h("img", { alt, loading: "lazy", decoding: "async", referrerpolicy: "no-referrer", src: url, onerror: missing }),
  );
  return frame;
}

/** "Data from YouTube", with YouTube's Terms of Service and Google's Privacy Policy. */
const attribution = () =>
  h(
    "p",
    { class: "hint attribution", "data-role": "attribution" },
    "Data from YouTube · ",
    external(YOUTUBE_TERMS_URL, "YouTube Terms of Service"),
    " · ",
    external(GOOGLE_PRIVACY_URL, "Google Privacy Policy"),
  );

export const youtubeWeb: WebProvider<"youtube"> = {
  snapshots: ["channel", "liked-videos", "subscriptions", "playlists"],

  connectionNote: () =>
    h(
      "p",
      { class: "hint", "data-role": "provider-note" },
      "Uses YouTube API Services (",
      external(YOUTUBE_TERMS_URL, "YouTube Terms of Service"),
      ", ",
      external(GOOGLE_PRIVACY_URL, "Google Privacy Policy"),
      "). Besides Disconnect, you can remove this app's access to your Google account at ",
      external(GOOGLE_PERMISSIONS_URL, "myaccount.google.com/permissions"),
      ".",
    ),

  dashboard(ctx) {
    const { section } = ctx;
    /** The listings whose "Show all" was pressed (kept between renders). */
    const expanded = new Set<Listing>();

    /** The first items of a long list, and the button that shows the rest. */
    const shown = <T>(listing: Listing, items: T[], what: string): { items: T[]; more: HTMLElement | null } => {
      const limit = SHOWN[listing];
      if (items.length <= limit || expanded.has(listing)) return { items, more: null };
      const more = h(
        "button",
        {
          class: "link more",
          "data-action": "show-all",
          onclick: () => {
            expanded.add(listing);
            ctx.rerender();
          },
        },
        `Show all ${formatCount(items.length)} ${what}`,
      );
      return { items: items.slice(0, limit), more };
    };

    const stat = (key: string, label: string, value: number | null, none: string, noneTitle?: string) =>
      h(
        "div",
        { class: "stat", "data-stat": key, "data-value": value === null ? undefined : String(value) },
        h("dt", null, label),
        h("dd", { title: value === null ? noneTitle : undefined }, value === null ? none : formatCount(value)),
      );

    /** The channel (or the sentence saying there is none), and the attribution of every YouTube panel. */
    const channelPanel = (attributed: boolean) => {
      const v = ctx.snapshot("channel", "YouTube channel statistics");
      if (!v.ok) return section("YouTube", [v.view, attributed ? attribution() : null], null, "youtube");
      const { channel, message } = readYoutubeChannel(v.data);
      if (!channel) {
        const words = message ?? "This Google account has no YouTube channel.";
        return section(
          "YouTube",
          [h("div", { class: "state empty", "data-role": "no-channel" }, h("p", null, words)), attribution()],
          null,
          "youtube",
        );
      }
      return section(
        "YouTube",
        [
          h(
            "div",
            { class: "yt-channel", "data-channel": channel.id },
            thumbnail(channel.thumbnailUrl, `Picture of ${channel.title}`, "channel"),
            h(
              "div",
              { class: "yt-channel-name" },
              external(channel.url, h("strong", null, channel.title), { "data-role": "channel-title" }),
              channel.handle ? h("span", { class: "hint" }, channel.handle) : null,
            ),
            h(
              "dl",
              { class: "stats" },
              stat(
                "subscribers",
                "Subscribers",
                channel.subscribers,
                "hidden",
                "The channel hides its subscriber count.",
              ),
              stat("views", "Views", channel.views, "—"),
              stat("videos", "Videos", channel.videos, "—"),
            ),
          ),
          attribution(),
        ],
        null,
        "youtube",
      );
    };

    const likedPanel = () => {
      const role = "youtube-liked";
      const v = ctx.snapshot("liked-videos", "liked videos");
      if (!v.ok) return section("Liked videos", v.view, null, role);
      const all = readLikedVideos(v.data);
      if (all.length === 0)
        return section("Liked videos", empty("You have not liked any videos on YouTube yet."), null, role);
      const { items, more } = shown("liked", all, "liked videos");
      return section(
        "Liked videos",
        [
          h(
            "ul",
            { class: "grid videos" },
            items.map((x) => {
              const duration = formatDuration(x.durationSeconds);
              return h(
                "li",
                { class: "tile", "data-video": x.id },
                h(
                  "div",
                  { class: "frame" },
                  thumbnail(x.thumbnailUrl, `Thumbnail of ${x.title}`, "video"),
                  duration ? h("span", { class: "badge", "data-role": "duration" }, duration) : null,
                ),
                external(x.url, x.title, { class: "title", title: x.title, "data-role": "video-title" }),
                h(
                  "span",
                  { class: "hint" },
                  // <bdi>: a right-to-left channel title must not reorder the view count after it.
                  x.channelTitle ? h("bdi", { "data-role": "channel" }, x.channelTitle) : null,
                  x.channelTitle && x.views !== null ? " · " : null,
                  x.views !== null ? plural(x.views, "view", "views") : null,
                ),
              );
            }),
          ),
          more,
        ],
        h("span", { class: "hint" }, `${all.length}`),
        role,
      );
    };

    const subscriptionsPanel = () => {
      const role = "youtube-subscriptions";
      const v = ctx.snapshot("subscriptions", "subscriptions");
      if (!v.ok) return section("Subscriptions", v.view, null, role);
      const all = readSubscriptions(v.data);
      if (all.length === 0)
        return section("Subscriptions", empty("You are not subscribed to any YouTube channel yet."), null, role);
      const { items, more } = shown("subscriptions", all, "subscriptions");
      return section(
        "Subscriptions",
        [
          h(
            "ul",
            { class: "channels" },
            items.map((s) =>
              h(
                "li",
                { "data-channel": s.channelId },
                thumbnail(s.thumbnailUrl, `Picture of ${s.title}`, "channel"),
                external(s.url, s.title, { class: "title", title: s.title }),
              ),
            ),
          ),
          more,
        ],
        h("span", { class: "hint" }, `${all.length}`),
        role,
      );
    };

    const playlistsPanel = () => {
      const role = "youtube-playlists";
      const v = ctx.snapshot("playlists", "YouTube playlists");
      if (!v.ok) return section("YouTube playlists", v.view, null, role);
      const all = readYoutubePlaylists(v.data);
      if (all.length === 0)
        return section("YouTube playlists", empty("You have no playlists on YouTube yet."), null, role);
      const { items, more } = shown("playlists", all, "playlists");
      return section(
        "YouTube playlists",
        [
          h(
            "ul",
            { class: "grid videos" },
            items.map((p) =>
              h(
                "li",
                { class: "tile", "data-yt-playlist": p.id },
                thumbnail(p.thumbnailUrl, `Thumbnail of ${p.title}`, "video"),
                external(p.url, p.title, { class: "title", title: p.title }),
                h(
                  "span",
                  { class: "hint" },
                  [
                    p.itemCount !== null ? plural(p.itemCount, "video", "videos") : null,
                    p.privacy ? PRIVACY_WORDS[p.privacy] : null,
                  ]
                    .filter(Boolean)
                    .join(" · "),
                ),
              ),
            ),
          ),
          more,
        ],
        h("span", { class: "hint" }, `${all.length}`),
        role,
      );
    };

    return () => {
      const channel = ctx.snapshot("channel", "YouTube channel statistics");
      // Without a channel there is nothing else to list: the channel panel says so, alone.
      if (channel.ok && !readYoutubeChannel(channel.data).channel) return [channelPanel(true)];
      const anyData = (["channel", "liked-videos", "subscriptions", "playlists"] as const).some(
        (name) => ctx.snapshot(name, name).ok,
      );
      return [channelPanel(anyData), likedPanel(), subscriptionsPanel(), playlistsPanel()];
    };
  },
};
