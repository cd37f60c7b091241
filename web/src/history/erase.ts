/**
 * "Delete history…" in the listening-history section: the person picks a date range, an artist
 * (from the artists the month aggregates already on the page list), or both; the panel says in
 * words how many plays that is (counted from the aggregates) and asks to confirm; the server
 * (the `eraseHistory` callable, functions/src/history/erase.ts) deletes the plays and recounts the
 * months, and the charts follow through their live queries of the aggregates.
 *
 * Nothing is read until the person opens the controls; then the months older than the live
 * window are read once (the artist list and the count cover the whole history).
 */
import type { MonthView } from "../../../functions/src/history/read";
import { topInRange } from "../../../functions/src/history/read";
import { empty, errorBox, h, loading } from "../dom";
import type { Loadable } from "./store";

/** What the callable is asked (functions/src/history/erase.ts EraseRequest, the provider aside). */
export interface EraseChoice {
  from?: string;
  to?: string;
  artistId?: string;
}

export interface ErasePanelOptions {
  section(title: string, body: HTMLElement, extra?: HTMLElement | null, role?: string): HTMLElement;
  /** Every month aggregate of the provider (live and older), or why not yet. */
  allMonths(): Loadable<MonthView[]>;
  connected(): boolean;
  /** Asks the server to delete; rejects with an Error whose message is a sentence. */
  erase(choice: EraseChoice): Promise<{ deleted: number; months: string[] }>;
  /** After a deletion: what was read once (the older months) is read again next time. */
  deleted(): void;
}

/** How many artists the picker offers, most played first. */
export const ARTIST_CHOICES = 50;

const inBounds = (day: string, c: EraseChoice) => (!c.from || day >= c.from) && (!c.to || day <= c.to);

/** The plays the choice covers, counted from the month aggregates' per-day counts. */
export function playsCovered(months: Iterable<MonthView>, c: EraseChoice): number {
  let n = 0;
  for (const m of months) {
    if (c.artistId !== undefined) {
      const a = Object.prototype.hasOwnProperty.call(m.artists, c.artistId) ? m.artists[c.artistId] : undefined;
      if (!a) continue;
      for (const [dd, count] of Object.entries(a.days)) if (inBounds(`${m.month}-${dd}`, c)) n += count;
    } else {
      for (const [dd, v] of Object.entries(m.days)) if (inBounds(`${m.month}-${dd}`, c)) n += v.plays;
    }
  }
  return n;
}

const dayWords = (day: string) =>
  new Date(`${day}T00:00:00Z`).toLocaleDateString("en-US", { dateStyle: "medium", timeZone: "UTC" });

const count = (n: number) => `${n.toLocaleString("en-US")} ${n === 1 ? "play" : "plays"}`;

/** "Delete 1,234 plays of Ada between Mar 1, 2026 and Mar 31, 2026? This cannot be undone." */
export function confirmWords(n: number, c: EraseChoice, artistName: string | null): string {
  const who = c.artistId !== undefined ? ` of ${artistName ?? "this artist"}` : "";
  const when =
    c.from && c.to
      ? c.from === c.to
        ? ` on ${dayWords(c.from)}`
        : ` between ${dayWords(c.from)} and ${dayWords(c.to)}`
      : c.from
        ? ` from ${dayWords(c.from)} on`
        : c.to
          ? ` up to ${dayWords(c.to)}`
          : "";
  return `Delete ${count(n)}${who}${when}? This cannot be undone.`;
}

/** The choice in the form, or the sentence saying what is wrong with it. */
export function readChoice(from: string, to: string, artistId: string): EraseChoice | string {
  if (!from && !to && !artistId) return "Pick the days, an artist, or both.";
  if (from && to && from > to) return "The first day is after the last day.";
  const c: EraseChoice = {};
  if (from) c.from = from;
  if (to) c.to = to;
  if (artistId) c.artistId = artistId;
  return c;
}

export function erasePanel(o: ErasePanelOptions): () => HTMLElement {
  const fromInput = h("input", { type: "date", name: "erase-from", "aria-label": "First day to delete" });
  const toInput = h("input", { type: "date", name: "erase-to", "aria-label": "Last day to delete" });
  const artist = h("select", { name: "erase-artist", "aria-label": "Artist to delete" });
  const status = h("div", { "data-role": "erase-status", "aria-live": "polite" });
  const ask = h("button", { type: "submit", class: "danger", "data-action": "erase-ask" }, "Delete…");
  const confirmText = h("p", { "data-role": "erase-confirm-text" });
  const yes = h("button", { type: "button", class: "danger", "data-action": "erase-confirm" }, "Delete");
  const no = h("button", { type: "button", "data-action": "erase-cancel" }, "Cancel");
  const confirmBox = h(
    "div",
    {
      class: "erase-confirm",
      "data-role": "erase-confirm",
      role: "alertdialog",
      "aria-label": "Confirm the deletion",
    },
    [confirmText, h("p", null, yes, " ", no)],
  );
  confirmBox.hidden = true;
  const form = h(
    "form",
    { class: "erase-form", "data-role": "erase-form" },
    h(
      "p",
      { class: "hint" },
      "Deletes the plays from your listening history; the charts are counted again without them. Leave the days empty for every day, or the artist on “Every artist”.",
    ),
    h(
      "div",
      { class: "dates" },
      h("label", null, "From ", fromInput),
      h("label", null, "to ", toInput),
      h("label", null, "Artist ", artist),
    ),
    h("p", null, ask),
  );
  const loadNote = h("div", { "data-role": "erase-load" });
  const body = h("div", { class: "erase-body" }, loadNote, form, confirmBox, status);
  const details = h("details", { class: "erase", "data-role": "erase" }, h("summary", null, "Delete history…"), body);
  const section = o.section("Delete listening history", details, null, "erase-history");
  let pending: EraseChoice | null = null;
  let busy = false;
  let artistKey = "";
  let loadKey = "";

  const show = (el: HTMLElement | null) => status.replaceChildren(...(el ? [el] : []));
  const months = (): MonthView[] | null => {
    const l = o.allMonths();
    return l.state === "ok" ? l.value : null;
  };

  details.addEventListener("toggle", () => render());
  const changed = () => {
    pending = null;
    confirmBox.hidden = true;
  };
  for (const el of [fromInput, toInput, artist]) el.addEventListener("change", changed);

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (busy) return;
    const c = readChoice(fromInput.value, toInput.value, artist.value);
    if (typeof c === "string") {
      changed();
      return show(errorBox(c));
    }
    const all = months();
    if (!all) return;
    const name = c.artistId ? (artist.selectedOptions[0]?.dataset.name ?? null) : null;
    pending = c;
    confirmText.textContent = confirmWords(playsCovered(all, c), c, name);
    confirmBox.hidden = false;
    show(null);
    yes.focus();
  });
  no.addEventListener("click", () => {
    changed();
    ask.focus();
  });
  yes.addEventListener("click", () => {
    const c = pending;
    if (!c || busy) return;
    busy = true;
    yes.disabled = ask.disabled = no.disabled = true;
    show(loading("Deleting…"));
    o.erase(c)
      .then((r) => {
        o.deleted();
        show(
          h("p", { class: "state ok", role: "status", "data-role": "erase-result" }, `Deleted ${count(r.deleted)}.`),
        );
      })
      .catch((err: unknown) =>
        show(errorBox("Nothing was deleted.", err instanceof Error ? err.message : "The server did not answer.")),
      )
      .finally(() => {
        busy = false;
        pending = null;
        confirmBox.hidden = true;
        yes.disabled = ask.disabled = no.disabled = false;
      });
  });

  const updateArtists = (all: MonthView[]) => {
    const top = topInRange(all, "0000-01-01", "9999-12-31", "artists", ARTIST_CHOICES);
    const key = JSON.stringify(top.map((a) => [a.id, a.name, a.plays]));
    if (key === artistKey) return;
    artistKey = key;
    const kept = artist.value;
    artist.replaceChildren(
      h("option", { value: "" }, "Every artist"),
      ...top.map((a) => h("option", { value: a.id, dataset: { name: a.name } }, `${a.name} (${count(a.plays)})`)),
    );
    artist.value = top.some((a) => a.id === kept) ? kept : "";
  };

  const render = () => {
    section.hidden = !o.connected();
    if (!details.open || section.hidden) return section;
    const l = o.allMonths();
    if (l.state === "ok") updateArtists(l.value);
    const note =
      l.state === "loading"
        ? loading("Loading your artists…")
        : l.state === "error"
          ? errorBox("Your listening history could not be loaded.", l.message)
          : l.value.length === 0
            ? empty("There is no listening history to delete.")
            : null;
    const noteKey = l.state === "ok" ? String(l.value.length === 0) : l.state;
    if (noteKey !== loadKey) {
      loadKey = noteKey;
      loadNote.replaceChildren(...(note ? [note] : []));
    }
    ask.disabled = busy || l.state !== "ok";
    return section;
  };
  return render;
}
