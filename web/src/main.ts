/**
 * The web app: sign up / sign in, connections, dashboard, and the operator view for people whose
 * ID token carries the `admin` claim. Hash routes (#/signin, #/signup, #/dashboard, #/connections,
 * #/operator) so Hosting needs no rewrites for pages.
 */
import { type User, onAuthStateChanged, signOut } from "firebase/auth";
import { isProviderId, providerName } from "../../functions/src/providers/catalog";
import { type View, errorBox, h, loading } from "./dom";
import { type Services, appCheckToken, initFirebase } from "./firebase";
import { createMediaLoader } from "./media";
import { WEB_PROVIDERS } from "./providers/registry";
import { authView } from "./views/auth";
import { connectionsView } from "./views/connections";
import { dashboardView } from "./views/dashboard";
import { operatorView } from "./views/operator";

type Route = "signin" | "signup" | "dashboard" | "connections" | "operator";

function routeOf(hash: string): Route {
  const r = hash.replace(/^#\/?/, "").split(/[?/]/)[0];
  return r === "signup" || r === "connections" || r === "dashboard" || r === "signin" || r === "operator"
    ? r
    : "dashboard";
}

/**
 * Sentences for the callback's `?oauth_error=` codes (functions/src/oauth/callback.ts); a provider
 * with own apps may say some in its words (web/src/providers/<id>/, `ownApp.oauthErrors`).
 */
const OAUTH_ERRORS: Record<string, string> = {
  access_denied: "you did not allow access on the consent page",
  provider_error: "the provider reported an error",
  missing_code: "the provider sent no authorization code",
  exchange_failed: "the authorization could not be completed; try again",
  identify_failed: "the account could not be identified; try again",
  not_allowed: "this account is not allowed to use the app (for Spotify: not on the app's allow-list)",
  provider_unavailable: "the provider is unavailable right now; try again later",
  account_gone: "your account no longer exists",
  account_in_use:
    "that account is already connected to another account of this app; disconnect it there first, then connect it here",
  server_error: "something went wrong on our side; try again",
  not_registered:
    "this account is not among the users of your own app at the provider; add it there, then connect again",
  app_changed: "your own app was replaced or removed while connecting; connect again",
  app_credentials:
    "the provider refused your own app's client ID and secret; save them again on the Connections page, then connect again",
  redirect_uri:
    "the provider refused the redirect URI; add exactly the address shown on the Connections page to your app, then connect again",
};

/**
 * The OAuth callback sends the browser back with `?connected=<provider>` or
 * `?oauth_error=<code>&provider=<provider>`. Read it once, then clean the address bar.
 */
function takeOAuthOutcome(): { text: string; tone: "info" | "error" } | null {
  const q = new URLSearchParams(location.search);
  const connected = q.get("connected");
  const error = q.get("oauth_error");
  if (!connected && !error) return null;
  history.replaceState(null, "", `${location.pathname}${location.hash}`);
  const provider = connected ?? q.get("provider") ?? "";
  const name = isProviderId(provider) ? providerName(provider) : "The account";
  if (error) {
    const own = isProviderId(provider) ? WEB_PROVIDERS[provider].ownApp?.oauthErrors : undefined;
    const said = (table: Readonly<Record<string, string>> | undefined) =>
      table && Object.hasOwn(table, error) ? table[error] : undefined;
    const why = said(own) ?? said(OAUTH_ERRORS);
    return { text: `${name} was not connected: ${why ?? error.replace(/_/g, " ")}.`, tone: "error" };
  }
  return { text: `${name} is connected. Its first sync has started; your data appears in a moment.`, tone: "info" };
}

class App {
  private user: User | null | undefined = undefined;
  /** Whether the signed-in person's ID token has `admin: true` (undefined: not read yet). */
  private admin: boolean | undefined = undefined;
  private route: Route = "dashboard";
  private navEl: HTMLElement | null = null;
  private view: View | null = null;
  private readonly media;
  private flash = takeOAuthOutcome();

  constructor(
    private readonly s: Services,
    private readonly root: HTMLElement,
  ) {
    this.media = createMediaLoader(
      async () => (this.s.auth.currentUser ? this.s.auth.currentUser.getIdToken() : null),
      () => appCheckToken(this.s),
    );
  }

  setUser(user: User | null) {
    if (this.user && (!user || user.uid !== this.user.uid)) this.media.clear();
    this.user = user;
    this.admin = user ? undefined : false;
    if (user) void this.readClaims(user);
    this.render();
  }

  /**
   * Reads the `admin` claim from the person's ID token. Only the navigation changes when it is
   * known (the page stays as it is), unless the operator view was waiting for it. A claim granted
   * after sign-in shows once the person signs in again (or the token refreshes).
   */
  private async readClaims(user: User) {
    let admin = false;
    try {
      admin = (await user.getIdTokenResult()).claims.admin === true;
    } catch {
      admin = false;
    }
    if (this.user !== user) return;
    this.admin = admin;
    if (this.route === "operator") this.render();
    else if (this.navEl) {
      const nav = this.nav(this.route);
      this.navEl.replaceWith(nav);
      this.navEl = nav;
    }
  }

  render() {
    if (this.user === undefined) return; // auth state not known yet: the boot spinner stays
    let route = routeOf(location.hash);
    if (!this.user && route !== "signin" && route !== "signup") {
      location.replace("#/signin");
      route = "signin";
    }
    if (this.user && (route === "signin" || route === "signup")) {
      location.replace("#/dashboard");
      route = "dashboard";
    }
    if (route === "operator" && this.admin === false) {
      // Not an operator: the view does not exist for them (the callable would refuse anyway).
      location.replace("#/dashboard");
      route = "dashboard";
    }
    this.route = route;
    this.view?.dispose();
    const flash = this.flash
      ? h("p", { class: `flash ${this.flash.tone}`, role: "status", "data-role": "flash" }, this.flash.text)
      : null;
    if (route === "connections") this.flash = null;
    this.view = !this.user
      ? authView(this.s, route === "signup" ? "signup" : "signin")
      : route === "connections"
        ? connectionsView(this.s, this.user.uid, flash)
        : route === "operator"
          ? this.admin
            ? operatorView(this.s)
            : { el: loading("Checking your access…"), dispose: () => undefined }
          : dashboardView(this.s, this.user.uid, this.media);
    this.navEl = this.nav(route);
    this.root.replaceChildren(this.navEl, this.view.el);
    document.title = `${{ signin: "Sign in", signup: "Sign up", dashboard: "Dashboard", connections: "Connections", operator: "Operator" }[route]} · Metrics sync`;
  }

  private nav(route: Route): HTMLElement {
    const link = (r: Route, text: string) =>
      h(
        "a",
        { href: `#/${r}`, class: route === r ? "current" : "", "aria-current": route === r ? "page" : undefined },
        text,
      );
    return h(
      "nav",
      { class: "top" },
      h("a", { href: "#/dashboard", class: "brand" }, "Metrics sync"),
      this.user
        ? [
            link("dashboard", "Dashboard"),
            link("connections", "Connections"),
            this.admin ? link("operator", "Operator") : null,
            h("span", { class: "who", "data-role": "who" }, this.user.email ?? ""),
            h(
              "button",
              {
                class: "link",
                "data-action": "signout",
                onclick: async () => {
                  await signOut(this.s.auth);
                  location.hash = "#/signin";
                },
              },
              "Sign out",
            ),
          ]
        : null,
      this.s.local ? h("span", { class: "local", title: "Talking to the local emulators" }, "local") : null,
    );
  }
}

async function boot() {
  const root = document.getElementById("app");
  if (!root) return;
  root.replaceChildren(loading("Starting…"));
  let services: Services;
  try {
    services = await initFirebase();
  } catch (e) {
    root.replaceChildren(
      errorBox("The app could not load its settings. Reload the page in a moment.", (e as Error).message),
    );
    return;
  }
  const app = new App(services, root);
  onAuthStateChanged(services.auth, (user) => app.setUser(user));
  window.addEventListener("hashchange", () => app.render());
}

void boot();
