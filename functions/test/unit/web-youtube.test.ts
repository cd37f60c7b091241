/** The web app's YouTube readers: the snapshots the sync stores (functions/src/providers/youtube/mapping.ts) as its panels show them. */
import {
  formatDuration,
  imageUrl,
  readLikedVideos,
  readSubscriptions,
  readYoutubeChannel,
  readYoutubePlaylists,
  youtubeTotal,
} from "../../../web/src/readers";

const CHANNEL_ID = "UCabcdefghijklmnopqrstuv";

describe("YouTube snapshot readers", () => {
  it("when the channel snapshot has a channel, then its title, handle, link, picture and statistics are read", () => {
    const out = readYoutubeChannel({
      channel: {
        id: CHANNEL_ID,
        title: "Ann's channel",
        description: null,
        customUrl: "@ann",
        publishedAt: "2020-01-01T00:00:00Z",
        thumbnailUrl: "https://yt3.ggpht.com/abc=s240",
        country: null,
        url: `https://www.youtube.com/channel/${CHANNEL_ID}`,
        statistics: { subscribers: 45, views: 123, videos: 6 },
      },
      message: null,
    });
    expect(out).toEqual({
      channel: {
        id: CHANNEL_ID,
        title: "Ann's channel",
        handle: "@ann",
        url: `https://www.youtube.com/channel/${CHANNEL_ID}`,
        thumbnailUrl: "https://yt3.ggpht.com/abc=s240",
        subscribers: 45,
        views: 123,
        videos: 6,
      },
      message: null,
    });
  });

  it("when the channel hides its subscriber count, then subscribers is null (not zero) and the rest is still read", () => {
    const out = readYoutubeChannel({
      channel: { id: CHANNEL_ID, title: "T", url: null, statistics: { subscribers: null, views: 0, videos: 2 } },
      message: null,
    });
    expect(out.channel).toMatchObject({ subscribers: null, views: 0, videos: 2 });
    // A link the snapshot lacks is built from the id.
    expect(out.channel?.url).toBe(`https://www.youtube.com/channel/${CHANNEL_ID}`);
  });

  it("when the account has no channel, then the reader gives no channel and the sync's sentence", () => {
    expect(readYoutubeChannel({ channel: null, message: "This Google account has no YouTube channel." })).toEqual({
      channel: null,
      message: "This Google account has no YouTube channel.",
    });
    expect(readYoutubeChannel(null)).toEqual({ channel: null, message: null });
  });

  it("when liked videos are read, then title, link, channel, duration, views and thumbnail come through; items without id are skipped", () => {
    const doc = {
      total: 2,
      items: [
        {
          id: "dQw4w9WgXcQ",
          title: "A video",
          channelId: "UCx",
          channelTitle: "Someone",
          publishedAt: "2024-02-03T04:05:06Z",
          durationSeconds: 253,
          thumbnailUrl: "https://i.ytimg.com/vi/dQw4w9WgXcQ/mqdefault.jpg",
          views: 1500,
          likes: 10,
          url: "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        },
        { title: "no id" },
      ],
    };
    const [v, ...rest] = readLikedVideos(doc);
    expect(rest).toEqual([]);
    expect(v).toMatchObject({
      id: "dQw4w9WgXcQ",
      title: "A video",
      url: "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
      channelTitle: "Someone",
      durationSeconds: 253,
      views: 1500,
      thumbnailUrl: "https://i.ytimg.com/vi/dQw4w9WgXcQ/mqdefault.jpg",
    });
    expect(v?.publishedAt?.toISOString()).toBe("2024-02-03T04:05:06.000Z");
    expect(youtubeTotal(doc)).toBe(2);
  });

  it("when subscriptions and playlists are read, then each links to YouTube; an unknown privacy status is dropped", () => {
    expect(
      readSubscriptions({
        items: [
          {
            id: "sub1",
            channelId: "UCy",
            title: "Other channel",
            thumbnailUrl: "https://yt3.ggpht.com/y",
            subscribedAt: "2023-01-01T00:00:00Z",
            url: "https://www.youtube.com/channel/UCy",
          },
          { id: "no channel id", title: "skipped" },
        ],
      }).map((s) => [s.channelId, s.title, s.url, s.thumbnailUrl]),
    ).toEqual([["UCy", "Other channel", "https://www.youtube.com/channel/UCy", "https://yt3.ggpht.com/y"]]);
    expect(
      readYoutubePlaylists({
        items: [
          {
            id: "PL1",
            title: "Mine",
            itemCount: 12,
            privacyStatus: "unlisted",
            url: "https://www.youtube.com/playlist?list=PL1",
          },
          { id: "PL2", title: "Odd", itemCount: null, privacyStatus: "secret", url: "javascript:alert(1)" },
        ],
      }).map((p) => [p.id, p.itemCount, p.privacy, p.url]),
    ).toEqual([
      ["PL1", 12, "unlisted", "https://www.youtube.com/playlist?list=PL1"],
      // A link that is not https: is replaced by the one built from the id.
      ["PL2", null, null, "https://www.youtube.com/playlist?list=PL2"],
    ]);
  });

  it("when a thumbnail URL is read, then https: and the local fake's loopback http: are kept, anything else is dropped", () => {
    expect(
      [
        "https://i.ytimg.com/vi/x/mqdefault.jpg",
        "http://127.0.0.1:9090/cdn/youtube/vi/x/mqdefault.jpg",
        "http://localhost:9090/cdn/youtube/ch/y.jpg",
        "http://i.ytimg.com/vi/x/mqdefault.jpg",
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "//i.ytimg.com/vi/x.jpg",
        42,
      ].map(imageUrl),
    ).toEqual([
      "https://i.ytimg.com/vi/x/mqdefault.jpg",
      "http://127.0.0.1:9090/cdn/youtube/vi/x/mqdefault.jpg",
      "http://localhost:9090/cdn/youtube/ch/y.jpg",
      null,
      null,
      null,
      null,
      null,
    ]);
  });

  it("when a duration is formatted, then it reads like YouTube's clock; none or zero (a live stream) gives nothing", () => {
    expect([253, 59, 3723, 36000, 0, null].map(formatDuration)).toEqual([
      "4:13",
      "0:59",
      "1:02:03",
      "10:00:00",
      null,
      null,
    ]);
  });
});
