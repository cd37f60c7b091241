/**
 * A provider's brand mark: its one- or two-letter mark on its brand colour (catalog `brand`).
 * The colour is set as a CSS custom property through the CSSOM, which the app's CSP allows
 * (a `style` attribute it would refuse).
 */
import type { CatalogEntry } from "../../../functions/src/providers/catalog";
import { h } from "../dom";

export function brandMark(entry: CatalogEntry, opts: { dot?: boolean } = {}): HTMLElement {
  const el = h(
    "span",
    { class: opts.dot ? "brand-mark dot" : "brand-mark", "aria-hidden": "true" },
    opts.dot ? null : entry.brand.mark,
  );
  el.style.setProperty("--brand", entry.brand.color);
  return el;
}
