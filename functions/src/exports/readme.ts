/** The README.md at the top of every export: what each file holds and what its fields mean. */

export function exportReadme(a: { uid: string; createdAt: Date }): string {
  return `# Your data

Everything this app holds about you, as of ${a.createdAt.toISOString()} (UTC), for the account
\`${a.uid}\`. Times are ISO 8601 strings in UTC (\`2026-12-02T13:05:16.000Z\`). Files appear only
when there is something to put in them.

Not included, on purpose: the access and refresh tokens of your connected accounts (stored
encrypted, and useless outside this app), the secret of your own provider app if you saved one,
the sync's internal locks and one-time sign-in states.

## profile.json

Your profile: \`uid\`, \`displayName\`, \`email\`, \`createdAt\`, and \`settings\`:
\`timeZone\` (the IANA time zone your statistics are counted in) and \`syncEnabled\` (false while
you paused syncing).

## connections.json

A list, one entry per connected provider (Spotify, Instagram, YouTube):

- \`provider\`, \`status\` (\`connected\`, \`needs_reauth\`, \`error\`, \`paused\`, \`disconnected\`);
- \`providerAccountId\`, \`providerAccountName\`: your account at the provider;
- \`scopes\`: what you allowed the app to read;
- \`connectedAt\`, \`updatedAt\`, \`lastSyncAt\` (last attempt), \`lastSuccessAt\`,
  \`lastManualSyncAt\` (your last "Sync now"), \`nextSyncAt\`;
- \`lastError\` (\`code\`, \`message\`, \`at\`) and \`consecutiveFailures\`; \`rateLimitedUntil\`
  when the provider asked us to wait; \`reauthReason\` when you must reconnect;
- \`counts\`: how many items the last successful sync read;
- \`dataErasedAt\` / \`dataExpiredAt\`: when the provider's data was deleted (on disconnect, or
  for being older than the provider's terms allow);
- \`history\`, \`lastHistoryGap\`, \`historyGaps\`: the state of your play log (see plays.jsonl);
- \`quietRuns\`: scheduled syncs since the last sync_runs.json entry that found nothing new;
- \`throughOwnApp\`: whether the connection uses your own provider app.

## snapshots/{provider}/{name}.json

The latest answer of each provider endpoint the sync reads (for example
\`snapshots/spotify/playlists.json\`, \`snapshots/instagram/media.json\`), exactly as stored,
reassembled when it was stored in parts. \`snapshots/index.json\` lists them: \`provider\`,
\`name\`, \`file\`, \`updatedAt\` (when its content last changed), \`bytes\` and \`hash\` (SHA-256
of its canonical JSON).

## plays.jsonl

Your play log (the tracks you listened to, from the sync and from imports), one JSON object per
line, oldest first: \`id\`, \`provider\`, \`playedAt\` (when the play happened), \`trackId\`,
\`trackName\`, \`artists\` (\`id\`, \`name\`), \`albumId\`, \`albumName\`, \`durationMs\` (the
track's length), \`context\` (\`type\`, \`uri\`: the playlist or album it was played from, or
null), \`source\` (\`sync\` or \`import\`) and \`loggedAt\` (when the app logged it).

## play_stats/{provider}-{YYYY-MM}.json

Month totals of the play log, counted in your time zone: \`provider\`, \`month\`, \`timeZone\`,
\`plays\`, \`ms\` (milliseconds listened), \`days\` (\`"01"\`…\`"31"\`: plays and ms),
\`grid\` (\`"{weekday}-{hour}"\`, weekday 0 = Monday, local hour: plays), \`artists\` and
\`tracks\` (by id: name, plays, ms, first and last play, plays per day).

## history/{provider}-{YYYY-MM}.json

Daily points of your other numbers (followers, playlists, posts and the like): \`provider\`,
\`month\`, \`days\` (\`"01"\`…\`"31"\`: the point of that local day).

## sync_runs.json

The sync history: one entry per sync run (\`provider\`, \`reason\`, \`startedAt\`, \`finishedAt\`,
\`outcome\`, \`counts\`, \`error\`, …). Runs are kept for a limited time. Scheduled syncs that
found nothing new have no entry of their own: \`quietRunsBefore\` on the next entry says how many
came before it.

## imports.json

Your imports of Spotify's streaming history: one entry per import (\`status\`, \`source\`,
\`fileName\`, \`size\`, \`createdAt\`, \`finishedAt\`, \`progress\`, per-file counts of what was
imported and skipped, \`error\`).

## media/{provider}/…

The images and media files the app copied from your providers (Spotify playlist covers,
Instagram media), under the names the app stores them by: \`{item id}.{extension}\`.
`;
}
