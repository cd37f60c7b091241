/**
 * Images from Cloud Storage, through the `media` function (Hosting rewrite `/api/media/**`).
 *
 * The function checks the caller's Firebase ID token and serves only objects under the caller's
 * own `{uid}/` folder. The browser fetches with an Authorization header (an <img src> cannot send
 * one), turns the bytes into a blob: URL, and keeps it for the page's life. Images load when they
 * scroll into view, a few at a time.
 */
import { h } from "./dom";

const CONCURRENCY = 6;

/**
 * Waits before each retry of a failed load: a function starting cold, a busy moment or an object
 * the sync is still writing answers late once, and one failure must not leave "image unavailable"
 * for the page's life. Refusals (signed out, 401, 403) are not retried.
 */
const RETRY_DELAYS_MS = [1_000, 3_000, 8_000];

/** A failure a retry cannot fix. */
class Refused extends Error {}

export interface MediaLoader {
  /** An <img> (or <video>) that fills itself when visible; shows a placeholder on failure. */
  image(objectPath: string, alt: string, opts?: { video?: boolean; fallbackUrl?: string }): HTMLElement;
  /** Forgets every blob URL (sign-out). */
  clear(): void;
}

export function mediaUrl(objectPath: string): string {
  return `/api/media/${objectPath.split("/").map(encodeURIComponent).join("/")}`;
}

export function createMediaLoader(
  getIdToken: () => Promise<string | null>,
  /** The App Check token to send (`X-Firebase-AppCheck`), or null without App Check. */
  getAppCheckToken: () => Promise<string | null> = async () => null,
): MediaLoader {
  const cache = new Map<string, Promise<string>>();
  /** Blob URLs already loaded: re-renders show them at once, without a loading flash. */
  const ready = new Map<string, string>();
  const waiting: (() => void)[] = [];
  let running = 0;

  const slot = async () => {
    if (running >= CONCURRENCY) await new Promise<void>((r) => waiting.push(r));
    running++;
  };
  const release = () => {
    running--;
    waiting.shift()?.();
  };

  const fetchOnce = async (objectPath: string): Promise<string> => {
    await slot();
    try {
      const token = await getIdToken();
      if (!token) throw new Refused("signed out");
      const appCheck = await getAppCheckToken();
      const res = await fetch(mediaUrl(objectPath), {
        headers: { Authorization: `Bearer ${token}`, ...(appCheck ? { "X-Firebase-AppCheck": appCheck } : {}) },
      });
      if (res.status === 401 || res.status === 403) throw new Refused(`media answered ${res.status}`);
      if (!res.ok) throw new Error(`media answered ${res.status}`);
      const url = URL.createObjectURL(await res.blob());
      ready.set(objectPath, url);
      return url;
    } finally {
      release();
    }
  };

  const fetchBlobUrl = (objectPath: string): Promise<string> => {
    let p = cache.get(objectPath);
    if (!p) {
      p = (async () => {
        for (let attempt = 0; ; attempt++) {
          try {
            return await fetchOnce(objectPath);
          } catch (e) {
            if (e instanceof Refused || attempt >= RETRY_DELAYS_MS.length) throw e;
            await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[attempt]));
          }
        }
      })();
      p.catch(() => cache.delete(objectPath)); // a later render may retry
      cache.set(objectPath, p);
    }
    return p;
  };

  const observer =
    typeof IntersectionObserver === "function"
      ? new IntersectionObserver(
          (entries) => {
            for (const e of entries) {
              if (!e.isIntersecting) continue;
              observer?.unobserve(e.target);
              (e.target as HTMLElement & { load?: () => void }).load?.();
            }
          },
          { rootMargin: "200px" },
        )
      : null;

  return {
    image(objectPath, alt, opts = {}) {
      const frame = h("div", { class: "media loading", title: alt }) as HTMLElement & { load?: () => void };
      const show = (url: string) => {
        const el = opts.video
          ? h("video", { src: url, muted: true, controls: true, preload: "metadata", "aria-label": alt })
          : h("img", { src: url, alt, decoding: "async" });
        frame.replaceChildren(el);
        frame.classList.remove("loading");
        frame.classList.add("loaded");
      };
      const known = ready.get(objectPath);
      if (known) {
        show(known);
        return frame;
      }
      frame.load = () => {
        fetchBlobUrl(objectPath).then(show, () => {
          frame.classList.remove("loading");
          if (opts.fallbackUrl) {
            // Not mirrored (e.g. cover mirroring switched off): the provider's own, temporary URL.
            frame.replaceChildren(h("img", { src: opts.fallbackUrl, alt, referrerpolicy: "no-referrer" }));
            frame.classList.add("external");
            return;
          }
          frame.classList.add("missing");
          frame.replaceChildren(h("span", { class: "placeholder" }, "image unavailable"));
        });
      };
      if (observer) observer.observe(frame);
      else frame.load();
      return frame;
    },
    clear() {
      for (const u of ready.values()) URL.revokeObjectURL(u);
      ready.clear();
      cache.clear();
    },
  };
}
