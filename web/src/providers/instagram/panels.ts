/**
 * Instagram's dashboard panels: the media grid (mirrored images, video and carousel badges,
 * captions, links) and the followers over time (the daily points, web/src/history/).
 */
import { empty, formatDateTime, h } from "../../dom";
import { httpsUrl, num } from "../../fields";
import { pointsPanel } from "../../history/points";
import type { WebProvider } from "../types";
import { readMedia } from "./readers";

export const instagramWeb: WebProvider<"instagram"> = {
  snapshots: ["media"],

  dashboard(ctx) {
    const { section, media } = ctx;

    const mediaPanel = () => {
      const v = ctx.snapshot("media", "Instagram posts");
      if (!v.ok) return section("Instagram", v.view, null, "instagram");
      const tiles = readMedia(v.data);
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
                      ctx.mirrorObject(m.image.id, m.image.ext),
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

    const followers = pointsPanel({
      store: ctx.history,
      section,
      connection: ctx.connection,
      providerName: "Instagram",
      title: "Followers over time",
      role: "followers",
      what: "followers",
      valueLabel: "Followers",
      pick: () => ({ name: "Instagram followers", pick: (pt) => num(pt.followers) }),
    });

    return () => [mediaPanel(), followers()];
  },
};
