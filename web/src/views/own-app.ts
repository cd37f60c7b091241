/**
 * The "your own app" section of a provider's card on the Connections page, for a provider whose
 * web module declares `ownApp` (web/src/providers/<id>/): the provider's steps with the exact
 * redirect URI (and a copy button), the client id / secret form, then the saved app with Replace
 * and Remove. It keeps one element for the page's lifetime, rebuilt only when its own state
 * changes, so the page's periodic re-render never clears what the person is typing.
 */
import { ApiError, type OwnAppDescription, type ProviderId, describeOwnApp, removeOwnApp, saveOwnApp } from "../api";
import { type Child, append, formatDateTime, h } from "../dom";
import type { Services } from "../firebase";
import type { OwnAppSupport } from "../providers/types";
import type { ConnectionView } from "../status";

export interface OwnAppPanel {
  /** The section (hidden while nothing is offered: mode `shared`, or still loading). */
  readonly el: HTMLElement;
  /** What the server said (null while loading, or when it could not be asked). */
  description(): OwnAppDescription | null;
  /** Whether the server has answered (with a description or an error). */
  loaded(): boolean;
}

interface Hooks {
  /** The provider's connection as last read. */
  connection(): ConnectionView | null;
  /** The description changed (loaded, saved, removed): the card's connect buttons follow it. */
  changed(): void;
}

type Result = { text: string; tone: "info" | "error" };

export function ownAppPanel(
  s: Services,
  provider: ProviderId,
  name: string,
  support: OwnAppSupport,
  hooks: Hooks,
): OwnAppPanel {
  let desc: OwnAppDescription | null = null;
  let loadError: string | null = null;
  let loaded = false;
  let editing = false;
  let confirmingRemove = false;

  const headingId = `own-app-${provider}-title`;
  const el = h("section", {
    class: "own-app",
    "data-role": "own-app",
    "aria-labelledby": headingId,
    hidden: true,
  });
  /** Results of Save / Remove / Copy, announced politely; one node for the page's lifetime. */
  const result = h("p", { class: "note", role: "status", "aria-live": "polite", "data-role": "own-app-result" });
  const say = (r: Result | null) => {
    result.className = r ? `note ${r.tone}` : "note";
    result.textContent = r?.text ?? "";
  };

  // The form's fields outlive rebuilds of the section.
  const idInput = h("input", {
    id: `own-app-${provider}-client-id`,
    name: "clientId",
    autocomplete: "off",
    spellcheck: "false",
    autocapitalize: "off",
    required: true,
  });
  const secretInput = h("input", {
    id: `own-app-${provider}-client-secret`,
    name: "clientSecret",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
  });
  const saveButton = h("button", { type: "submit", class: "primary", "data-action": "save-app" }, "Save");
  const cancelButton = h(
    "button",
    {
      type: "button",
      "data-action": "cancel-replace",
      onclick: () => {
        editing = false;
        say(null);
        build();
        el.querySelector<HTMLElement>("[data-action=replace-app]")?.focus();
      },
    },
    "Cancel",
  );
  const replaceWarning = h(
    "p",
    { class: "hint", "data-role": "replace-warning" },
    `Saving a different app disconnects ${name} (its synced data is kept); connect again afterwards.`,
  );
  const form = h(
    "form",
    { class: "own-app-form", "data-role": "own-app-form", novalidate: true },
    h("label", { for: idInput.id }, support.clientIdLabel),
    idInput,
    h("label", { for: secretInput.id }, support.clientSecretLabel),
    secretInput,
    replaceWarning,
    h("div", { class: "actions" }, saveButton, cancelButton),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void save();
  });

  async function save() {
    const clientId = idInput.value.trim();
    const clientSecret = secretInput.value.trim();
    if (!clientId || !clientSecret) {
      say({ text: `Enter both the ${support.clientIdLabel} and the ${support.clientSecretLabel}.`, tone: "error" });
      (clientId ? secretInput : idInput).focus();
      return;
    }
    saveButton.disabled = true;
    saveButton.textContent = `Checking with ${name}…`;
    try {
      const { app, disconnected } = await saveOwnApp(s, provider, clientId, clientSecret);
      if (desc) desc = { ...desc, app };
      editing = false;
      idInput.value = "";
      secretInput.value = "";
      say({
        text: `Saved: ${name} accepted your app's ${support.clientIdLabel} and secret.${disconnected ? ` ${name} was disconnected from the app used before (its synced data is kept); connect again.` : ""}`,
        tone: "info",
      });
      build();
      el.querySelector<HTMLElement>("[data-action=replace-app]")?.focus();
      hooks.changed();
    } catch (e) {
      say({ text: e instanceof ApiError ? e.message : "Saving your app failed.", tone: "error" });
    } finally {
      saveButton.disabled = false;
      saveButton.textContent = "Save";
    }
  }

  async function remove(btn: HTMLButtonElement) {
    btn.disabled = true;
    btn.textContent = "Removing…";
    try {
      const { removed, disconnected } = await removeOwnApp(s, provider);
      if (desc) desc = { ...desc, app: null };
      confirmingRemove = false;
      editing = false;
      say({
        text: removed
          ? `Your app was removed and its secret deleted.${disconnected ? ` ${name} was disconnected; its synced data is kept.` : ""}`
          : "There was no saved app to remove.",
        tone: "info",
      });
      build();
      idInput.focus();
      hooks.changed();
    } catch (e) {
      say({ text: e instanceof ApiError ? e.message : "Removing your app failed.", tone: "error" });
      btn.disabled = false;
      btn.textContent = "Remove";
    }
  }

  /** The exact redirect URI in a `<code>`, with a button that copies it. */
  function copyable(uri: string): HTMLElement {
    const done = h("span", { class: "hint", "aria-live": "polite", "data-role": "copy-result" });
    const code = h("code", { "data-role": "redirect-uri" }, uri);
    return h(
      "span",
      { class: "copyable" },
      code,
      h(
        "button",
        {
          type: "button",
          "data-action": "copy-redirect-uri",
          "aria-label": "Copy the redirect URI",
          onclick: async () => {
            try {
              await navigator.clipboard.writeText(uri);
              done.textContent = "Copied.";
            } catch {
              const range = document.createRange();
              range.selectNodeContents(code);
              const sel = window.getSelection();
              sel?.removeAllRanges();
              sel?.addRange(range);
              done.textContent =
                "Copying is not allowed here: the address is selected, copy it with Ctrl+C (⌘C on a Mac).";
            }
          },
        },
        "Copy",
      ),
      done,
    );
  }

  function build() {
    if (loadError !== null) {
      el.hidden = false;
      el.replaceChildren(
        h("h3", { id: headingId }, support.title),
        h("p", { class: "note error", role: "alert", "data-role": "own-app-load-error" }, loadError),
        h(
          "div",
          { class: "actions" },
          h("button", { type: "button", "data-action": "retry-own-app", onclick: () => void load() }, "Try again"),
        ),
      );
      return;
    }
    if (!desc || desc.mode === "shared") {
      el.hidden = true;
      el.replaceChildren();
      return;
    }
    el.hidden = false;
    const { app, mode, redirectUri } = desc;
    const children: Child[] = [h("h3", { id: headingId }, support.title)];
    if (app && !editing) {
      children.push(
        h(
          "p",
          {
            "data-role": "own-app-saved",
            title: app.savedAt ? `Saved ${formatDateTime(app.savedAt)}` : undefined,
          },
          "Your app ",
          h("code", null, app.clientId),
          " is saved. The secret is stored encrypted and is never shown again.",
        ),
      );
      const actions = h(
        "div",
        { class: "actions" },
        h(
          "button",
          {
            type: "button",
            "data-action": "replace-app",
            onclick: () => {
              editing = true;
              confirmingRemove = false;
              say(null);
              build();
              idInput.focus();
            },
          },
          "Replace",
        ),
        h(
          "button",
          {
            type: "button",
            class: "danger",
            "data-action": "remove-app",
            onclick: () => {
              confirmingRemove = true;
              build();
              el.querySelector<HTMLElement>("[data-action=confirm-remove-app]")?.focus();
            },
          },
          "Remove",
        ),
      );
      children.push(actions);
      if (confirmingRemove) {
        const throughIt = hooks.connection()?.app?.clientId === app.clientId;
        children.push(
          h(
            "div",
            { class: "confirm", role: "group", "aria-label": "Remove your app" },
            h(
              "p",
              null,
              `Remove your app? Its secret is deleted here.${throughIt ? ` ${name} is connected through it, so ${name} is disconnected too (its synced data is kept).` : ""}`,
            ),
            h(
              "div",
              { class: "actions" },
              h(
                "button",
                {
                  type: "button",
                  class: "danger",
                  "data-action": "confirm-remove-app",
                  onclick: (ev: Event) => void remove(ev.currentTarget as HTMLButtonElement),
                },
                "Remove",
              ),
              h(
                "button",
                {
                  type: "button",
                  onclick: () => {
                    confirmingRemove = false;
                    build();
                    el.querySelector<HTMLElement>("[data-action=remove-app]")?.focus();
                  },
                },
                "Cancel",
              ),
            ),
          ),
        );
      }
    } else {
      children.push(
        h(
          "p",
          null,
          mode === "own"
            ? `This site connects ${name} only through an app of your own. Create it at ${name}, then save its ${support.clientIdLabel} and secret here.`
            : `Instead of this site's ${name} app, you can connect through an app of your own: create it at ${name}, then save its ${support.clientIdLabel} and secret here.`,
        ),
        support.steps(copyable(redirectUri)),
      );
      const connectedThroughOwn = Boolean(app && hooks.connection()?.app?.clientId === app.clientId);
      replaceWarning.hidden = !connectedThroughOwn;
      cancelButton.hidden = !app;
      children.push(form);
    }
    children.push(result);
    el.replaceChildren();
    append(el, children);
  }

  async function load() {
    loadError = null;
    try {
      desc = await describeOwnApp(s, provider);
    } catch (e) {
      desc = null;
      loadError = e instanceof ApiError ? e.message : `Your own ${name} app's settings could not be loaded.`;
    }
    loaded = true;
    build();
    hooks.changed();
  }

  void load();
  return { el, description: () => desc, loaded: () => loaded };
}
