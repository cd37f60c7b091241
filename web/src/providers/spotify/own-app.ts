/**
 * A person's own Spotify app (past the shared app's development-mode limit of five people): the
 * steps at Spotify's developer dashboard, the sentences for what Spotify refuses, and how a used
 * up quota reads (each app, the site's or a person's own, has its own).
 */
import { h } from "../../dom";
import type { QuotaWords } from "../../status";
import type { OwnAppSupport } from "../types";

const DASHBOARD = "https://developer.spotify.com/dashboard";

export const spotifyOwnApp: OwnAppSupport = {
  title: "Your own Spotify app",
  clientIdLabel: "Client ID",
  clientSecretLabel: "Client secret",

  steps: (redirectUri) =>
    h(
      "ol",
      { class: "steps", "data-role": "own-app-steps" },
      h(
        "li",
        null,
        "Sign in at ",
        h("a", { href: DASHBOARD, target: "_blank", rel: "noopener noreferrer" }, "Spotify's developer dashboard"),
        " with your Spotify account and choose Create app (any name and description).",
      ),
      h("li", null, "Under Redirect URIs, paste this exact address and press Add: ", redirectUri),
      h("li", null, "Under “Which API/SDKs are you planning to use?”, tick Web API, accept the terms and Save."),
      h(
        "li",
        null,
        "Open the app's Settings, then User Management: add yourself with your name and the email of your Spotify account " +
          "(Spotify lets only the accounts listed there use the app; it is yours alone: this site lets no one else use it).",
      ),
      h(
        "li",
        null,
        "In Settings, copy the Client ID, then choose View client secret and copy the Client secret; paste both below.",
      ),
    ),

  redirectHint: (redirectUri) =>
    h(
      "p",
      { class: "hint", "data-role": "redirect-hint" },
      "If Spotify shows “INVALID_CLIENT: Invalid redirect URI”, add exactly ",
      h("code", null, redirectUri),
      " to your app's Redirect URIs and Save there.",
    ),

  oauthErrors: {
    not_registered:
      "this Spotify account is not in your app's User Management; add it there with the email of your Spotify account, then connect again",
    app_changed: "your own Spotify app was replaced or removed while connecting; connect again",
    app_credentials:
      "Spotify refused your app's client ID and secret; copy both again from your app's Settings, save them on the Connections page, then connect again",
    redirect_uri:
      "Spotify refused the redirect URI; add exactly the address shown under “Your own Spotify app” on the Connections page to your app's Redirect URIs, then connect again",
  },
};

export const spotifyQuotaWords: QuotaWords = (c, until) => ({
  label: `Spotify's request quota used up until ${until}`,
  detail: c.app
    ? `Your own Spotify app (${c.app.clientId}) has used the requests Spotify allows it; syncing resumes by itself after that.`
    : "This site's Spotify app has used the requests Spotify allows it; syncing resumes by itself after that.",
});
