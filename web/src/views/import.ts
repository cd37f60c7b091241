/**
 * The "Import your Spotify history" card on the dashboard: choose the export's zip or its JSON
 * files (each file is its own import, uploaded one after another: the server runs one import per
 * person at a time), set the shortest play to keep, watch the upload's bytes, then the import's
 * progress live from `users/{uid}/imports` (newest first): status, percent, plays imported,
 * duplicates, and per file what was skipped and why. No inline styles or scripts (the CSP).
 */
import { type Unsubscribe, collection, limit, onSnapshot, orderBy, query } from "firebase/firestore";
import { firestorePaths } from "../../../functions/src/paths";
import { ApiError } from "../api";
import { type View, empty, errorBox, formatDateTime, h, heldWhilePressed, loading } from "../dom";
import type { Services } from "../firebase";
import {
  type ImportView,
  bytesWords,
  countWords,
  fileWords,
  readImport,
  skippedWords,
  statusWords,
} from "../imports/read";
import { uploadImport } from "../imports/upload";

const SHOWN = 10;
const DEFAULT_MIN_SECONDS = 30;

type Jobs = { state: "loading" } | { state: "ok"; rows: ImportView[] } | { state: "error"; message: string };

function jobCard(v: ImportView): HTMLElement {
  const finished = v.status === "done" || v.status === "failed";
  return h(
    "article",
    { class: `import status-${v.status}`, "data-import-id": v.id, "data-status": v.status },
    h("h3", null, v.fileName),
    h(
      "p",
      { class: "meta" },
      `${bytesWords(v.size)} · plays shorter than ${Math.round(v.minPlayMs / 1000)} s skipped · started ${formatDateTime(v.createdAt)}`,
      v.finishedAt && finished ? ` · finished ${formatDateTime(v.finishedAt)}` : "",
    ),
    h(
      "p",
      { "data-role": "status", class: `status ${v.status === "failed" ? "error" : finished ? "ok" : "busy"}` },
      statusWords(v),
    ),
    v.status === "failed"
      ? null
      : h(
          "p",
          { class: "progress-line" },
          h("progress", { max: "100", value: String(v.percent), "data-role": "percent", "aria-label": "Imported" }),
          h("span", { "data-role": "percent-text" }, ` ${v.percent} %`),
        ),
    v.status === "failed" ? null : h("p", { "data-role": "counts" }, countWords(v)),
    v.error ? h("p", { class: "note error", role: "alert", "data-role": "error" }, v.error) : null,
    v.files.length
      ? h(
          "ul",
          { class: "import-files" },
          v.files.map((f) => {
            const skipped = skippedWords(f);
            return h(
              "li",
              { "data-file": f.name },
              h("span", null, fileWords(f)),
              skipped ? h("p", { class: "hint", "data-role": "skipped" }, skipped) : null,
            );
          }),
        )
      : null,
  );
}

export function importView(s: Services, uid: string): View {
  let jobs: Jobs = { state: "loading" };
  /** Resolved when a job reaches done or failed (the next file waits for it). */
  const waiting = new Map<string, () => void>();
  let busy = false;

  const files = h("input", {
    type: "file",
    name: "import-files",
    accept: ".zip,.json",
    multiple: true,
    "aria-label": "Spotify export files",
  });
  const minSeconds = h("input", {
    type: "number",
    name: "min-play-seconds",
    min: "0",
    max: "600",
    step: "1",
    value: String(DEFAULT_MIN_SECONDS),
    "aria-label": "Skip plays shorter than this many seconds",
  });
  const submit = h("button", { type: "submit", class: "primary" }, "Upload and import");
  const uploadBox = h("div", { class: "upload-state", "data-role": "upload", "aria-live": "polite" });
  const list = h("div", { class: "imports", "data-role": "imports" });

  const setUpload = (...children: (Node | string | null)[]) =>
    uploadBox.replaceChildren(...children.filter((c) => c !== null));

  // The list follows the import jobs live, but not under a pressed button (dom.ts).
  const renderList = heldWhilePressed(list, () => {
    if (jobs.state === "loading") return list.replaceChildren(loading("Loading your imports…"));
    if (jobs.state === "error")
      return list.replaceChildren(errorBox("Your imports could not be loaded.", jobs.message));
    if (jobs.rows.length === 0)
      return list.replaceChildren(empty("No imports yet.", "Your imports and their progress appear here."));
    list.replaceChildren(...jobs.rows.map(jobCard));
  });

  const finished = (importId: string) =>
    new Promise<void>((resolve) => {
      const j = jobs.state === "ok" ? jobs.rows.find((r) => r.id === importId) : undefined;
      if (j && (j.status === "done" || j.status === "failed")) return resolve();
      waiting.set(importId, resolve);
    });

  const run = async (chosen: File[], seconds: number) => {
    busy = true;
    submit.disabled = true;
    try {
      for (const [i, file] of chosen.entries()) {
        const which = chosen.length > 1 ? ` (file ${i + 1} of ${chosen.length})` : "";
        const bar = h("progress", { max: String(file.size), value: "0", "data-role": "upload-bytes" });
        const words = h("span", { "data-role": "upload-words" });
        setUpload(h("p", null, words), bar);
        const importId = await uploadImport(s, file, seconds, ({ sent, total }) => {
          bar.value = sent;
          words.textContent = `Uploading ${file.name}${which}: ${bytesWords(sent)} of ${bytesWords(total)}`;
        });
        words.textContent = `${file.name} is uploaded; its import runs on the server (you may leave this page).`;
        if (i < chosen.length - 1) {
          words.textContent = `${file.name} is uploaded; the next file starts when its import is done.`;
          await finished(importId);
        }
      }
    } catch (e) {
      const message = e instanceof ApiError ? e.message : "The upload failed; try again.";
      setUpload(errorBox("The file was not uploaded.", message));
    } finally {
      busy = false;
      submit.disabled = false;
      files.value = "";
    }
  };

  const form = h(
    "form",
    { class: "import-form", "data-role": "import-form" },
    h("label", null, "Files ", files),
    h("label", null, "Skip plays shorter than ", minSeconds, " seconds"),
    h("p", { class: "actions" }, submit),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (busy) return;
    const chosen = Array.from(files.files ?? []);
    if (chosen.length === 0)
      return setUpload(errorBox("Choose a file first: the zip of your export or its JSON files."));
    const seconds = minSeconds.value === "" ? DEFAULT_MIN_SECONDS : Number(minSeconds.value);
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 600)
      return setUpload(errorBox("The shortest play must be a whole number of seconds from 0 to 600."));
    void run(chosen, seconds);
  });

  const el = h(
    "section",
    { class: "panel", "data-section": "import" },
    h("header", null, h("h2", null, "Import your Spotify history")),
    h(
      "p",
      { class: "hint" },
      "Spotify's privacy export holds your years before you connected. Upload its zip (my_spotify_data.zip) or the Streaming_History JSON files inside it; each file is its own import. Podcasts and audiobooks are skipped, and plays already in your history are not added twice.",
    ),
    form,
    uploadBox,
    list,
  );
  renderList();

  const unsub: Unsubscribe = onSnapshot(
    query(collection(s.db, firestorePaths.imports(uid)), orderBy("createdAt", "desc"), limit(SHOWN)),
    (snap) => {
      jobs = { state: "ok", rows: snap.docs.map((d) => readImport(d.id, d.data())) };
      for (const r of jobs.rows) {
        if (r.status === "done" || r.status === "failed") {
          waiting.get(r.id)?.();
          waiting.delete(r.id);
        }
      }
      renderList();
    },
    (e) => {
      jobs = { state: "error", message: e.message };
      renderList();
    },
  );

  return {
    el,
    dispose: () => {
      unsub();
      for (const resolve of waiting.values()) resolve();
      waiting.clear();
    },
  };
}
