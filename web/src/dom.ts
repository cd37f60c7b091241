/** A tiny DOM builder: no framework, just elements. */
export type Child = Node | string | number | null | undefined | false | Child[];

type Props = {
  class?: string;
  text?: string;
  dataset?: Record<string, string>;
  style?: string;
} & { [K in `on${string}`]?: (ev: Event) => void } & Record<string, unknown>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = String(value);
    else if (key === "text") el.textContent = String(value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value as EventListener);
    } else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/** A view owns an element and whatever it subscribed to; dispose() unsubscribes. */
export interface View {
  el: HTMLElement;
  dispose(): void;
}

export function loading(what: string): HTMLElement {
  return h(
    "p",
    { class: "state loading", role: "status" },
    h("span", { class: "spinner", "aria-hidden": "true" }),
    what,
  );
}

export function empty(what: string, hint?: Child): HTMLElement {
  return h("div", { class: "state empty" }, h("p", null, what), hint ? h("p", { class: "hint" }, hint) : null);
}

export function errorBox(what: string, detail?: string): HTMLElement {
  return h(
    "div",
    { class: "state error", role: "alert" },
    h("p", null, what),
    detail ? h("p", { class: "hint" }, detail) : null,
  );
}

export function formatDateTime(d: Date | null): string {
  if (!d) return "never";
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function formatTime(d: Date): string {
  return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** "3 minutes ago", "in 2 hours". */
export function relative(d: Date, now = new Date()): string {
  const s = Math.round((d.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(s);
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  if (abs < 60) return rtf.format(s, "second");
  if (abs < 3600) return rtf.format(Math.round(s / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(s / 3600), "hour");
  return rtf.format(Math.round(s / 86400), "day");
}

/**
 * Wraps a live view's re-render so it waits while something inside `root` is pressed. Live views
 * rebuild their elements when their data changes; a rebuild between the press and the release
 * replaces the pressed button, and the browser then fires no click at all (the press and the
 * release landed on different elements), so the person's click is lost. A held render runs right
 * after the click, or after `maxHoldMs` for a press released outside `root`. While one waits,
 * `root` is `aria-busy`.
 */
export function heldWhilePressed(root: HTMLElement, render: () => void, maxHoldMs = 5000): () => void {
  let pressed = false;
  let pending = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const release = () => {
    if (!pressed) return;
    pressed = false;
    clearTimeout(timer);
    if (pending) {
      pending = false;
      root.removeAttribute("aria-busy");
      render();
    }
  };
  const press = () => {
    pressed = true;
    clearTimeout(timer);
    timer = setTimeout(release, maxHoldMs);
  };
  // The click is dispatched after the release, in the same task: render in the next one.
  const releaseAfterClick = () => void setTimeout(release, 0);
  root.addEventListener("pointerdown", press, true);
  root.addEventListener("pointerup", releaseAfterClick, true);
  root.addEventListener("pointercancel", releaseAfterClick, true);
  // Space clicks a button on keyup; Enter on keydown.
  root.addEventListener("keydown", (e) => (e.key === " " || e.key === "Enter") && press(), true);
  root.addEventListener("keyup", releaseAfterClick, true);
  return () => {
    if (!pressed) return render();
    pending = true;
    root.setAttribute("aria-busy", "true");
  };
}
