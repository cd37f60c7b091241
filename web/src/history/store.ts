/**
 * The dashboard's reads of one provider's listening history: the month aggregates
 * (`users/{uid}/play_stats/{provider}-{YYYY-MM}`) and the daily points
 * (`users/{uid}/history/{provider}-{YYYY-MM}`) of the last 365 days, followed live (one query each,
 * at most 13 documents), plus — only when a chart asks for an earlier day — the older months, read
 * once. Never the raw play log. The person's time zone (profile `settings.timeZone`) decides
 * what "today" is, as it decided the aggregates' days.
 */
import {
  type Firestore,
  type Unsubscribe,
  collection,
  doc,
  documentId,
  getDoc,
  getDocs,
  onSnapshot,
  query,
  where,
} from "firebase/firestore";
import type { MonthView } from "../../../functions/src/history/read";
import { dayOf, isTimeZone } from "../../../functions/src/history/read";
import { firestorePaths } from "../../../functions/src/paths";
import type { ProviderId } from "../../../functions/src/providers/catalog";
import { type PointMonth, liveMonths, readMonth, readPointMonth } from "./data";
import { countReads } from "./metrics";

export type Loadable<T> = { state: "loading" } | { state: "error"; message: string } | { state: "ok"; value: T };

export interface HistoryStore {
  /** The person's time zone (UTC until the profile is read). */
  timeZone(): string;
  /** Today in the person's time zone ("2026-12-02"). */
  today(): string;
  /** The month aggregates of the last 365 days, live. */
  months(): Loadable<MonthView[]>;
  /**
   * The months older than the live window, read once on the first call (until then and while it
   * reads: loading). A chart calls this only for a day before the live window.
   */
  olderMonths(): Loadable<MonthView[]>;
  /** After plays were deleted: the older months are read again on the next `olderMonths` call. */
  forgetOlder(): void;
  /** The daily points of the last 365 days, live. */
  points(): Loadable<PointMonth[]>;
  dispose(): void;
}

const UTC = "Etc/UTC";

/**
 * Starts nothing until a chart asks (a provider without history charts costs no read); `changed`
 * runs whenever something arrives (the dashboard renders again).
 */
export function createHistoryStore(
  db: Firestore,
  uid: string,
  provider: ProviderId,
  changed: () => void,
): HistoryStore {
  let zone = UTC;
  let zoneRead: Promise<void> | null = null;
  let months: Loadable<MonthView[]> = { state: "loading" };
  let points: Loadable<PointMonth[]> = { state: "loading" };
  let older: Loadable<MonthView[]> | null = null;
  /** Bumped by forgetOlder, so an older read still under way does not bring back what was forgotten. */
  let olderGeneration = 0;
  let monthsWindow: string | null = null;
  let pointsWindow: string | null = null;
  const unsubs: { months?: Unsubscribe; points?: Unsubscribe } = {};
  let disposed = false;

  const readZone = () =>
    (zoneRead ??= getDoc(doc(db, firestorePaths.user(uid)))
      .then((d) => {
        countReads(1);
        const tz = (d.data()?.settings as { timeZone?: unknown } | undefined)?.timeZone;
        if (isTimeZone(tz) && tz !== zone) {
          zone = tz;
          changed();
        }
      })
      .catch(() => undefined)); // the profile may not exist yet: UTC, as the server assumes

  const today = () => dayOf(new Date(), zone);

  /** The live window's document-id range of a collection: `{provider}-{first month}` … `{provider}-{last}`. */
  const windowQuery = (path: string) => {
    const { first, last } = liveMonths(today());
    return {
      key: `${first}/${last}`,
      q: query(
        collection(db, path),
        where(documentId(), ">=", `${provider}-${first}`),
        where(documentId(), "<=", `${provider}-${last}`),
      ),
    };
  };

  const follow = <T>(
    which: "months" | "points",
    path: string,
    read: (data: unknown) => T | null,
    set: (v: Loadable<T[]>) => void,
  ) => {
    const { key, q } = windowQuery(path);
    if (which === "months" ? monthsWindow === key : pointsWindow === key) return;
    if (which === "months") monthsWindow = key;
    else pointsWindow = key;
    unsubs[which]?.();
    let first = true;
    unsubs[which] = onSnapshot(
      q,
      (snap) => {
        if (!snap.metadata.fromCache) {
          countReads(snap.docChanges().length, { empty: first, data: true });
          first = false;
        }
        set({ state: "ok", value: snap.docs.flatMap((d) => read(d.data()) ?? []) });
        changed();
      },
      (e) => {
        set({ state: "error", message: e.message });
        changed();
      },
    );
  };

  const start = () => {
    if (disposed) return false;
    void readZone();
    return true;
  };

  return {
    timeZone: () => zone,
    today,
    months() {
      if (start())
        follow("months", firestorePaths.playStats(uid), readMonth, (v) => {
          months = v;
        });
      return months;
    },
    points() {
      if (start())
        follow("points", firestorePaths.history(uid), readPointMonth, (v) => {
          points = v;
        });
      return points;
    },
    olderMonths() {
      if (older || !start()) return older ?? { state: "loading" };
      older = { state: "loading" };
      const generation = olderGeneration;
      const { first } = liveMonths(today());
      getDocs(
        query(
          collection(db, firestorePaths.playStats(uid)),
          where(documentId(), ">=", `${provider}-0000-00`),
          where(documentId(), "<", `${provider}-${first}`),
        ),
      )
        .then((snap) => {
          countReads(snap.size, { empty: true, data: true });
          if (generation === olderGeneration)
            older = { state: "ok", value: snap.docs.flatMap((d) => readMonth(d.data()) ?? []) };
        })
        .catch((e: unknown) => {
          if (generation === olderGeneration) older = { state: "error", message: (e as Error).message };
        })
        .finally(changed);
      return older;
    },
    forgetOlder() {
      olderGeneration++;
      older = null;
      changed();
    },
    dispose() {
      disposed = true;
      unsubs.months?.();
      unsubs.points?.();
    },
  };
}
