/**
 * What a provider brings to the web app (web/src/providers/<id>/): the snapshots its dashboard
 * panels follow and the function that renders them. The dashboard (views/dashboard.ts) does
 * everything generic — it follows the listed snapshots live, reassembles parted ones, decides
 * the loading / not-synced / error states, and lays the panels out in catalog order — so a
 * provider's folder holds only what is its own.
 */
import type { DocumentData } from "firebase/firestore";
import type { CatalogEntryOf, ProviderId } from "../../../functions/src/providers/catalog";
import type { Child } from "../dom";
import type { Services } from "../firebase";
import type { HistoryStore } from "../history/store";
import type { MediaLoader } from "../media";
import type { ConnectionView, QuotaWords } from "../status";

/** A snapshot name of a provider, as its catalog entry lists them. */
export type SnapshotName<P extends ProviderId> = CatalogEntryOf<P>["snapshots"][number];

/**
 * A snapshot as a panel sees it: its data once loaded, or else the element that says why not
 * (loading, connect first, not synced yet, nothing in the last sync, could not be loaded).
 */
export type SnapshotState = { ok: true; data: DocumentData } | { ok: false; view: HTMLElement };

/** What the dashboard gives a provider's panels: shared helpers and the live state, read at render time. */
export interface PanelContext<P extends ProviderId> {
  readonly provider: P;
  readonly uid: string;
  readonly media: MediaLoader;
  /**
   * One dashboard section, `<section class="panel" data-section="…">`: a header with `title` and
   * `extra` (a count, a switch), then `body`. `role` (the `data-section`) defaults to the title in
   * lower case.
   */
  section(title: string, body: Child, extra?: Child, role?: string): HTMLElement;
  /** A snapshot (one of the provider's `snapshots`); `what` names its contents in the state texts ("playlists"). */
  snapshot(name: SnapshotName<P>, what: string): SnapshotState;
  /** The provider's connection as last read (null: none). */
  connection(): ConnectionView | null;
  /** The Storage object of a file the sync mirrored (`storagePaths.mirrorObject`), for `media.image`. */
  mirrorObject(itemId: string, ext: string): string;
  /** Renders the dashboard again, e.g. after a panel's own choice (a time range) changed. */
  rerender(): void;
  /**
   * The provider's listening history and daily points (web/src/history/store.ts): read only
   * once a panel asks, followed live while the dashboard is open.
   */
  readonly history: HistoryStore;
  /** The Firebase services, for a panel's own callable (the listening history's "Delete history…"). */
  readonly services: Services;
}

export interface WebProvider<P extends ProviderId> {
  /** The snapshots the dashboard follows for this provider (a subset of its catalog entry's). */
  readonly snapshots: readonly SnapshotName<P>[];
  /**
   * Called once per dashboard; returns what renders the provider's sections, called on every
   * render (so it may keep the panels' own state, such as a selected tab, between renders).
   */
  dashboard(ctx: PanelContext<P>): () => Child[];
  /**
   * What the provider adds to its card on the Connections page, below the status (e.g. where else
   * its access can be removed); called on every render of the card. Absent: nothing.
   */
  connectionNote?(connection: ConnectionView | null): Child;
  /** How a used-up quota (`quota_exceeded`) reads on the card. Absent: a daily quota's words. */
  readonly quotaWords?: QuotaWords;
  /**
   * The provider lets a person bring their own app (its client id and secret, the `ownApp`
   * callable): what the Connections page needs to guide them. Absent: only the site's app.
   */
  readonly ownApp?: OwnAppSupport;
}

/**
 * The provider's part of the "your own app" section of its card (views/own-app.ts does the form,
 * saving, Replace / Remove and the connect buttons).
 */
export interface OwnAppSupport {
  /** The section's heading, e.g. "Your own Spotify app". */
  readonly title: string;
  /**
   * What the person does at the provider to create the app, step by step; `redirectUri` is the
   * page's element showing the exact redirect URI (a `<code>` with a copy button).
   */
  steps(redirectUri: Child): Child;
  /** The labels of the two fields, e.g. "Client ID" and "Client secret". */
  readonly clientIdLabel: string;
  readonly clientSecretLabel: string;
  /** Next to the own-app connect: what to do when the provider refuses the redirect URI. */
  redirectHint(redirectUri: string): Child;
  /** Sentences for the callback's `?oauth_error=` codes in this provider's words (over the general ones). */
  readonly oauthErrors?: Readonly<Record<string, string>>;
}
