/**
 * "Download my data": one button asks the server for an export (the `requestExport` callable);
 * the panel follows the newest export job live (`users/{uid}/exports`, newest first) and shows its
 * progress in words; once ready, "Download" fetches the zip through the media function with the
 * ID token (as images are, web/src/media.ts) and saves it with a blob: link. It says until when
 * the file is kept, and the server's sentence when it refuses (one export at a time).
 */
import { FirebaseError } from "firebase/app";
import { collection, limit, onSnapshot, orderBy, query } from "firebase/firestore";
import { httpsCallable } from "firebase/functions";
import { firestorePaths } from "../../../functions/src/paths";
import { type View, errorBox, formatDateTime, h, heldWhilePressed } from "../dom";
import { num, str } from "../fields";
import { type Services, appCheckToken } from "../firebase";
import { mediaUrl } from "../media";
import { toDate } from "../status";

type Status = "queued" | "running" | "ready" | "failed" | "expired";

interface ExportView {
  id: string;
  status: Status;
  step: string;
  percent: number;
  createdAt: Date | null;
  expiresAt: Date | null;
  objectPath: string | null;
  size: number | null;
  error: string | null;
}

const STATUSES: readonly Status[] = ["queued", "running", "ready", "failed", "expired"];

/** Reads an export job document defensively (anything unexpected reads as absent). */
export function readExport(id: string, d: Record<string, unknown>): ExportView | null {
  const status = STATUSES.find((s) => s === d.status);
  if (!status) return null;
  const progress = (d.progress && typeof d.progress === "object" ? d.progress : {}) as Record<string, unknown>;
  return {
    id,
    status,
    step: str(progress.step) ?? "",
    percent: Math.max(0, Math.min(100, num(progress.percent) ?? 0)),
    createdAt: toDate(d.createdAt),
    expiresAt: toDate(d.expiresAt),
    objectPath: str(d.objectPath),
    size: num(d.size),
    error: str(d.error),
  };
}

function sizeText(bytes: number | null): string {
  if (bytes === null) return "";
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.round(bytes / 1024))} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export function exportView(s: Services, uid: string): View {
  const body = h("div", { class: "export-body" });
  const el = h(
    "section",
    { class: "panel export", "data-section": "export" },
    h("header", null, h("h2", null, "Download my data")),
    h(
      "p",
      { class: "hint" },
      "A zip of everything this app holds about you: profile, connections (never their tokens), the synced data, your play log, statistics, sync history, imports and mirrored images. It is kept for a day.",
    ),
    body,
  );
  let current: ExportView | null = null;
  let loaded = false;
  let loadError: string | null = null;
  let requesting = false;
  let downloading = false;
  let note: { text: string; tone: "info" | "error" } | null = null;

  const request = async () => {
    requesting = true;
    note = null;
    render();
    try {
      await httpsCallable(s.functions, "requestExport")({});
      note = { text: "Your export is being prepared; you can leave this page and come back.", tone: "info" };
    } catch (e) {
      const message =
        e instanceof FirebaseError && e.code !== "functions/internal" && e.code !== "functions/unavailable"
          ? e.message
          : "The export could not be requested: the server is unavailable. Try again in a moment.";
      note = { text: message, tone: "error" };
    } finally {
      requesting = false;
      render();
    }
  };

  const download = async (v: ExportView) => {
    if (!v.objectPath) return;
    downloading = true;
    note = null;
    render();
    try {
      const user = s.auth.currentUser;
      if (!user) throw new Error("You are signed out. Sign in again.");
      const appCheck = await appCheckToken(s);
      const res = await fetch(mediaUrl(v.objectPath), {
        headers: {
          Authorization: `Bearer ${await user.getIdToken()}`,
          ...(appCheck ? { "X-Firebase-AppCheck": appCheck } : {}),
        },
      });
      if (!res.ok) {
        throw new Error(
          res.status === 404
            ? "This export is no longer there (it expired); request a new one."
            : `The download failed (HTTP ${res.status}): ${(await res.text()).slice(0, 200)}`,
        );
      }
      const url = URL.createObjectURL(await res.blob());
      const day = (v.createdAt ?? new Date()).toISOString().slice(0, 10);
      const a = h("a", { href: url, download: `my-data-${day}.zip`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (e) {
      note = { text: (e as Error).message, tone: "error" };
    } finally {
      downloading = false;
      render();
    }
  };

  const requestButton = (label: string, disabled: boolean) =>
    h(
      "button",
      { type: "button", "data-action": "request-export", disabled, onclick: () => void request() },
      requesting ? "Requesting…" : label,
    );

  const state = (): HTMLElement[] => {
    if (loadError) return [errorBox("Your exports could not be loaded.", loadError)];
    if (!loaded) return [h("p", { class: "hint" }, "Loading…")];
    const v = current;
    if (!v || v.status === "expired" || v.status === "failed") {
      const said: HTMLElement | null =
        v?.status === "failed"
          ? h("p", { class: "note error", "data-role": "export-status" }, `The last export failed: ${v.error ?? ""}`)
          : v?.status === "expired"
            ? h("p", { class: "hint", "data-role": "export-status" }, "Your last export was deleted after a day.")
            : null;
      return [said, h("div", { class: "actions" }, requestButton("Download my data", requesting))].filter(
        (x): x is HTMLElement => x !== null,
      );
    }
    if (v.status === "queued" || v.status === "running") {
      return [
        h(
          "p",
          { class: "status", "data-role": "export-status", "data-status": v.status },
          `Preparing your export: ${v.step || "waiting to start"} (${v.percent}%).`,
        ),
        h("progress", { max: "100", value: String(v.percent), "aria-label": "Export progress" }),
        h("div", { class: "actions" }, requestButton("Download my data", true)),
      ];
    }
    return [
      h(
        "p",
        { class: "status ok", "data-role": "export-status", "data-status": "ready" },
        `Your export is ready${v.size !== null ? ` (${sizeText(v.size)})` : ""}. It is kept until ${formatDateTime(v.expiresAt)}.`,
      ),
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          {
            type: "button",
            class: "primary",
            "data-action": "download-export",
            disabled: downloading,
            onclick: () => void download(v),
          },
          downloading ? "Downloading…" : "Download",
        ),
        requestButton("Make a new export", requesting),
      ),
    ];
  };

  // The section follows the export job live, but not under a pressed button (dom.ts).
  const render = heldWhilePressed(body, () =>
    body.replaceChildren(
      ...state(),
      ...(note ? [h("p", { class: `note ${note.tone}`, role: "status", "data-role": "export-note" }, note.text)] : []),
    ),
  );

  const unsub = onSnapshot(
    query(collection(s.db, firestorePaths.exports(uid)), orderBy("createdAt", "desc"), limit(1)),
    (snap) => {
      const d = snap.docs[0];
      current = d ? readExport(d.id, d.data()) : null;
      loaded = true;
      loadError = null;
      // A new job's progress replaces the "being prepared" note.
      if (current && current.status !== "queued" && note?.tone === "info") note = null;
      render();
    },
    (e) => {
      loadError = e.message;
      render();
    },
  );

  render();
  return { el, dispose: unsub };
}
