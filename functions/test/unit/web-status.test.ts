/** The web app's pure parts: status in words, and reading snapshot documents. */
import { describeConnection, readConnection, syncAvailableAt, syncRefusedText, toDate } from "../../../web/src/status";
import { rangeItems, readMedia, readPlaylists, readRecentlyPlayed, readTracks } from "../../../web/src/readers";

const NOW = new Date("2026-05-01T12:00:00Z");
const at = (iso: string) => ({ toDate: () => new Date(iso) }); // a Firestore Timestamp look-alike

function conn(fields: Record<string, unknown>) {
  return readConnection({ status: "connected", counts: {}, lastSuccessAt: null, ...fields });
}

describe("describeConnection", () => {
  it("when there is no connection document, then it reads 'Not connected' and offers Connect", () => {
    const w = describeConnection(null, NOW);
    expect(w.label).toBe("Not connected");
    expect(w.canConnect).toBe(true);
    expect(w.canSync).toBe(false);
  });

  it("when a lease is held, then it reads 'Syncing…'; an expired lease does not count", () => {
    expect(describeConnection(conn({ lease: { holder: "t", expiresAt: at("2026-05-01T12:05:00Z") } }), NOW).label).toBe(
      "Syncing…",
    );
    expect(describeConnection(conn({ lease: { holder: "t", expiresAt: at("2026-05-01T11:55:00Z") } }), NOW).label).toBe(
      "Connected",
    );
  });

  it("when re-auth is needed, then the reason is shown and Connect is offered", () => {
    const w = describeConnection(conn({ status: "needs_reauth", reauthReason: "Spotify revoked access." }), NOW);
    expect(w.label).toBe("Needs re-authorization");
    expect(w.detail).toContain("Spotify revoked access.");
    expect(w.canConnect).toBe(true);
  });

  it("when rate-limited into the future, then it says until when; in the past it is ignored", () => {
    const w = describeConnection(conn({ rateLimitedUntil: at("2026-05-01T13:00:00Z") }), NOW);
    expect(w.label).toMatch(/^Rate-limited until /);
    expect(w.canSync).toBe(false);
    expect(describeConnection(conn({ rateLimitedUntil: at("2026-05-01T11:00:00Z") }), NOW).label).toBe("Connected");
  });

  it("when a daily quota is used up, then it says so, not 'rate-limited', until the reset", () => {
    const w = describeConnection(
      conn({
        rateLimitedUntil: at("2026-05-02T07:00:00Z"),
        lastError: {
          code: "quota_exceeded",
          message: "YouTube GET /youtube/v3/videos answered quotaExceeded.",
          at: null,
        },
      }),
      NOW,
    );
    expect(w.label).toMatch(/^Daily quota used up until /);
    expect(w.detail).toMatch(/resumes by itself when it resets/);
    expect(w.canSync).toBe(false);
  });

  it("when the status is error, then the last error's message is shown", () => {
    const w = describeConnection(
      conn({
        status: "error",
        lastError: { code: "provider_schema", message: "Bad answer.", at: at("2026-05-01T11:00:00Z") },
      }),
      NOW,
    );
    expect(w.label).toBe("Error");
    expect(w.detail).toContain("Bad answer.");
  });

  it("when connected but never synced, then it says the first sync is pending", () => {
    expect(describeConnection(conn({}), NOW).detail).toContain("first sync");
  });
});

describe("syncAvailableAt", () => {
  it("when the last manual sync is inside the cooldown, then the time it ends is returned; after it, null", () => {
    const c = conn({ lastManualSyncAt: at("2026-05-01T11:58:00Z") });
    expect(syncAvailableAt(c, 300, NOW)?.toISOString()).toBe("2026-05-01T12:03:00.000Z");
    expect(syncAvailableAt(c, 60, NOW)).toBeNull();
  });
});

describe("toDate", () => {
  it("when given a Timestamp, Date, ISO string or garbage, then it returns a Date or null", () => {
    expect(toDate(at("2026-01-01T00:00:00Z"))?.toISOString()).toBe("2026-01-01T00:00:00.000Z");
    expect(toDate("2026-01-01T00:00:00Z")?.getTime()).toBe(Date.UTC(2026, 0, 1));
    expect(toDate("not a date")).toBeNull();
    expect(toDate({})).toBeNull();
  });
});

describe("snapshot readers", () => {
  it("when playlists come in Spotify's shape, then id, name, track count and cover URL are read; items without id are skipped", () => {
    const out = readPlaylists({
      items: [
        {
          id: "p1",
          name: "Mix",
          tracks: { total: 12 },
          owner: { display_name: "Ann" },
          images: [{ url: "http://x/1.jpg" }],
        },
        { name: "no id" },
      ],
    });
    expect(out).toEqual([{ id: "p1", name: "Mix", tracks: 12, owner: "Ann", imageUrl: "http://x/1.jpg" }]);
  });

  it("when top tracks are stored per time range, then only the chosen range is read", () => {
    const doc = {
      short_term: { items: [{ name: "A", artists: [{ name: "X" }] }] },
      long_term: { items: [{ name: "B" }] },
    };
    expect(readTracks(rangeItems(doc, "short_term")).map((t) => t.name)).toEqual(["A"]);
    expect(readTracks(rangeItems(doc, "long_term")).map((t) => t.name)).toEqual(["B"]);
    expect(readTracks(rangeItems(doc, "medium_term"))).toEqual([]);
  });

  it("when recently played items wrap a track, then name, artists and time are read", () => {
    const [row] = readRecentlyPlayed({
      items: [{ track: { name: "Song", artists: [{ name: "Y" }] }, played_at: "2026-05-01T10:00:00Z" }],
    });
    expect(row).toMatchObject({ name: "Song", artists: "Y" });
    expect(row?.playedAt?.toISOString()).toBe("2026-05-01T10:00:00.000Z");
  });

  it("when Instagram media is read, then each tile shows its mirrored image: itself, a video's still, a carousel's first child", () => {
    const out = readMedia({
      items: [
        { id: "m1", media_type: "IMAGE", file_ext: "jpg", caption: "hi", children: [] },
        { id: "m2", media_type: "VIDEO", file_ext: "jpg", children: [] },
        {
          id: "m3",
          media_type: "CAROUSEL_ALBUM",
          file_ext: null,
          children: [
            { id: "c1", media_type: "VIDEO", file_ext: null },
            { id: "c2", media_type: "IMAGE", file_ext: "jpg" },
          ],
        },
        { id: "m4", media_type: "VIDEO", file_ext: null, children: [] },
      ],
    });
    expect(out.map((m) => [m.id, m.image?.id ?? null, m.children])).toEqual([
      ["m1", "m1", 0],
      ["m2", "m2", 0],
      ["m3", "c2", 2],
      ["m4", null, 0],
    ]);
  });

  it("when a permalink is not an https: URL, then the tile gets no permalink (so no link is rendered)", () => {
    const permalinks = [
      "https://www.instagram.com/p/abc/",
      "javascript:alert(document.domain)",
      " JavaScript:alert(1)",
      "http://www.instagram.com/p/abc/",
      "data:text/html,<script>alert(1)</script>",
      "//evil.example/p/abc",
      "/p/abc",
      42,
    ];
    const out = readMedia({ items: permalinks.map((permalink, i) => ({ id: `m${i}`, permalink })) });
    expect(out.map((m) => m.permalink)).toEqual([
      "https://www.instagram.com/p/abc/",
      null,
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
  });
});

describe("syncRefusedText", () => {
  const when = "Sync now is possible again in 2 hours.";
  it("when Sync now is refused for an error backoff, then it says the last syncs failed, not that one was just requested", () => {
    const t = syncRefusedText("Spotify", "backoff", when);
    expect(t).toContain("last syncs of Spotify failed");
    expect(t).not.toContain("requested a moment ago");
    expect(t.endsWith(when)).toBe(true);
  });

  it("when it is refused for the cooldown or a rate limit, then each says so", () => {
    expect(syncRefusedText("Spotify", "cooldown", when)).toBe(`A sync was requested a moment ago. ${when}`);
    expect(syncRefusedText("Instagram", "rate_limited", when)).toBe(`Instagram asked us to wait. ${when}`);
  });
});
