/**
 * Calendar arithmetic in IANA time zones ("America/Los_Angeles"), with the zone rules Node's Intl
 * carries, so daylight saving is included without a hand-kept offset table.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock date and time in `timeZone` at `at`. */
export function wallClock(
  at: Date,
  timeZone: string,
): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

/** How far the zone's wall clock is ahead of UTC at `at`, in ms (Los Angeles: −7 h or −8 h). */
export function zoneOffsetMs(at: Date, timeZone: string): number {
  const w = wallClock(at, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(at.getTime() / 1000) * 1000;
}

/**
 * The instant of the next midnight in `timeZone` after `now` (strictly later). Zones whose
 * transitions fall at midnight are handled by re-reading the offset at the guessed instant.
 */
export function nextMidnight(now: Date, timeZone: string): Date {
  const w = wallClock(now, timeZone);
  // Midnight of the next calendar day as if the zone were UTC, then shifted by the zone's offset.
  const localMidnight = Date.UTC(w.year, w.month - 1, w.day + 1, 0, 0, 0);
  let at = localMidnight - zoneOffsetMs(new Date(localMidnight), timeZone);
  const offsetThere = zoneOffsetMs(new Date(at), timeZone);
  at = localMidnight - offsetThere;
  return new Date(at);
}
