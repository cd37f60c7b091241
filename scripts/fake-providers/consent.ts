/**
 * The consent page every provider shares: GET authorize shows a form (pick a fake account or
 * "new account"; Allow / Deny) that POSTs to `<authorize path>/decision`, which answers 302 to
 * `redirect_uri?code=…&state=…` or `redirect_uri?error=access_denied&state=…`.
 * A test drives it without a browser by POSTing the form fields itself.
 */
import type { ProviderId } from "./data";
import { type Reply, type Rq, escapeHtml, html, redirect } from "./reply";
import type { FakeState } from "./state";

export interface AuthorizeRules {
  provider: ProviderId;
  /** The app's client id the provider's fake accepts. */
  clientId: string;
  /**
   * Another app the provider knows (an own app, apps.ts) by its client id: its redirect URIs must
   * match exactly. Undefined, or no such app: only `clientId` is accepted.
   */
  ownApp?: (clientId: string) => { redirectUris: readonly string[] } | undefined;
  /** Scope list separator in the `scope` parameter. */
  scopeSeparator: RegExp;
  /** Meta appends "#_" to its redirects. */
  fragment: string;
  /** Extra query parameters on a denial (e.g. Meta's error_reason and error_description). */
  denyExtras: Record<string, string>;
}

/** Checks the authorize parameters; a problem is shown on the provider's page, never redirected. */
function problem(rules: AuthorizeRules, q: URLSearchParams): string | undefined {
  const clientId = q.get("client_id") ?? "";
  const own = clientId === rules.clientId ? undefined : rules.ownApp?.(clientId);
  if (clientId !== rules.clientId && !own) return "INVALID_CLIENT: Invalid client";
  if (q.get("response_type") !== "code") return "unsupported_response_type: response_type must be code";
  const redirectUri = q.get("redirect_uri");
  if (!redirectUri) return "INVALID_CLIENT: Missing redirect URI";
  // An own app accepts exactly the redirect URIs registered on it; the operator's, any secure one.
  if (own) return own.redirectUris.includes(redirectUri) ? undefined : "INVALID_CLIENT: Invalid redirect URI";
  let parsed: URL;
  try {
    parsed = new URL(redirectUri);
  } catch {
    return "INVALID_CLIENT: Invalid redirect URI";
  }
  // Spotify (Nov 2025): HTTPS, or plain HTTP only on a loopback IP literal; never "localhost".
  const loopback = parsed.protocol === "http:" && (parsed.hostname === "127.0.0.1" || parsed.hostname === "[::1]");
  if (parsed.protocol !== "https:" && !loopback) return "INVALID_CLIENT: Insecure redirect URI";
  return undefined;
}

export function consentPage(state: FakeState, rules: AuthorizeRules, rq: Rq): Reply {
  const why = problem(rules, rq.query);
  if (why) return html(400, `<!doctype html><title>Error</title><h1>${escapeHtml(why)}</h1>`);
  const hidden = [...rq.query.entries()]
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join("\n      ");
  const accounts = [...state.accounts[rules.provider].values()];
  const options = [
    ...accounts.map(
      (a, i) =>
        `<label><input type="radio" name="account" value="${escapeHtml(a.id)}"${i === 0 ? " checked" : ""}> ` +
        `${escapeHtml(a.displayName || "(no name)")} <small>${escapeHtml(a.id)}</small></label><br>`,
    ),
    `<label><input type="radio" name="account" value="new"${accounts.length === 0 ? " checked" : ""}> a new fake account</label>`,
  ].join("\n      ");
  const scopes = rq.query.get("scope") ?? "";
  return html(
    200,
    `<!doctype html>
<html><head><meta charset="utf-8"><title>Fake ${rules.provider} — authorize</title></head>
<body>
  <h1>Fake ${rules.provider}: allow access?</h1>
  <p>The app <code>${escapeHtml(rq.query.get("client_id") ?? "")}</code> asks for: <code>${escapeHtml(scopes)}</code></p>
  <form method="post" action="${escapeHtml(rq.url.pathname)}/decision">
      ${hidden}
    <fieldset><legend>Sign in as</legend>
      ${options}
    </fieldset>
    <button type="submit" name="decision" value="allow">Allow</button>
    <button type="submit" name="decision" value="deny">Deny</button>
  </form>
</body></html>`,
  );
}

export function decide(state: FakeState, rules: AuthorizeRules, rq: Rq): Reply {
  const f = rq.form;
  const why = problem(rules, f);
  if (why) return html(400, `<!doctype html><title>Error</title><h1>${escapeHtml(why)}</h1>`);
  const target = new URL(f.get("redirect_uri")!);
  const stateParam = f.get("state");
  const decision = f.get("decision");
  if (decision === "deny") {
    target.searchParams.set("error", "access_denied");
    for (const [k, v] of Object.entries(rules.denyExtras)) target.searchParams.set(k, v);
  } else if (decision === "allow") {
    const choice = f.get("account") ?? "new";
    const account = choice === "new" ? state.addAccount(rules.provider) : state.accounts[rules.provider].get(choice);
    if (!account) return html(400, `<!doctype html><h1>No fake ${rules.provider} account "${escapeHtml(choice)}"</h1>`);
    const code = state.tokens.issueCode({
      provider: rules.provider,
      accountId: account.id,
      clientId: f.get("client_id")!,
      redirectUri: f.get("redirect_uri")!,
      scopes: (f.get("scope") ?? "").split(rules.scopeSeparator).filter(Boolean),
    });
    target.searchParams.set("code", code);
  } else {
    return html(400, `<!doctype html><h1>decision must be allow or deny</h1>`);
  }
  if (stateParam !== null) target.searchParams.set("state", stateParam);
  return redirect(`${target.toString()}${rules.fragment}`);
}
