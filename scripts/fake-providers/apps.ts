/**
 * Own apps: apps a person registers with a provider themselves (Spotify's developer dashboard),
 * besides the operator's app (FakeProvider `app`). Each has its own client id and secret, its
 * registered redirect URIs, its User Management list (the fake account ids allowed to use it in
 * development mode) and its own rolling rate budget. Only providers whose fake sets `ownApps`
 * have them.
 */
import { randomBytes } from "node:crypto";
import type { ProviderId } from "./data";
import { RollingLimiter } from "./faults";

/** What createApp accepts. */
export interface OwnAppSpec {
  /** Default: 32 random hex characters. */
  clientId?: string;
  /** Default: 32 random hex characters. */
  clientSecret?: string;
  /** Default: "App <n>". */
  name?: string;
  /** The exact redirect URIs the authorize page accepts (default: none). */
  redirectUris?: string[];
  /** Fake account ids in the app's User Management (default: none). */
  users?: string[];
}

export interface OwnApp {
  provider: ProviderId;
  clientId: string;
  clientSecret: string;
  name: string;
  redirectUris: string[];
  users: Set<string>;
  /** This app's own rolling budget (off until rateLimit names the app). */
  limiter: RollingLimiter;
}

/** What `apps` and `app` show: never the secret. */
export interface OwnAppSummary {
  provider: ProviderId;
  clientId: string;
  name: string;
  redirectUris: string[];
  users: string[];
}

/** The `app` operation's actions. */
export const APP_ACTIONS = ["addUser", "removeUser", "setRedirectUris", "setSecret", "delete"] as const;
export type AppAction = (typeof APP_ACTIONS)[number];

const hex32 = () => randomBytes(16).toString("hex");

function nonEmpty(what: string, v: unknown): string {
  if (typeof v !== "string" || v.trim() === "")
    throw new Error(`${what} must be a non-empty string (got ${JSON.stringify(v)}).`);
  return v;
}

/** A redirect URI the dashboard would register: HTTPS, or plain HTTP on a loopback IP literal. */
function redirectUri(v: unknown): string {
  const s = nonEmpty("Each redirect URI", v);
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new Error(`Redirect URI ${JSON.stringify(s)} is not a URL.`);
  }
  const loopback = u.protocol === "http:" && (u.hostname === "127.0.0.1" || u.hostname === "[::1]");
  if (u.protocol !== "https:" && !loopback) {
    throw new Error(`Redirect URI ${JSON.stringify(s)} must be https://, or http:// on 127.0.0.1 or [::1].`);
  }
  return s;
}

function list(what: string, v: unknown, each: (x: unknown) => string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new Error(`"${what}" must be an array of strings.`);
  return [...new Set(v.map(each))];
}

export function appSummary(a: OwnApp): OwnAppSummary {
  return {
    provider: a.provider,
    clientId: a.clientId,
    name: a.name,
    redirectUris: [...a.redirectUris],
    users: [...a.users],
  };
}

export class AppRegistry {
  private readonly apps = new Map<string, OwnApp>();
  private made = 0;

  /**
   * @param operatorClientId the operator's client id of a provider (no own app may take it).
   */
  constructor(private readonly operatorClientId: (p: ProviderId) => string) {}

  private key(provider: ProviderId, clientId: string): string {
    return `${provider}\u0000${clientId}`;
  }

  create(provider: ProviderId, spec: OwnAppSpec = {}): OwnApp {
    if (typeof spec !== "object" || spec === null || Array.isArray(spec)) throw new Error('"spec" must be an object.');
    const clientId = spec.clientId === undefined ? hex32() : nonEmpty('"clientId"', spec.clientId);
    if (clientId === this.operatorClientId(provider) || this.apps.has(this.key(provider, clientId))) {
      throw new Error(`A ${provider} app with client id "${clientId}" already exists.`);
    }
    const app: OwnApp = {
      provider,
      clientId,
      clientSecret: spec.clientSecret === undefined ? hex32() : nonEmpty('"clientSecret"', spec.clientSecret),
      name: spec.name === undefined ? `App ${++this.made}` : nonEmpty('"name"', spec.name),
      redirectUris: list("redirectUris", spec.redirectUris, redirectUri),
      users: new Set(list("users", spec.users, (x) => nonEmpty("Each user", x))),
      limiter: new RollingLimiter(),
    };
    this.apps.set(this.key(provider, clientId), app);
    return app;
  }

  get(provider: ProviderId, clientId: string | undefined): OwnApp | undefined {
    return clientId === undefined ? undefined : this.apps.get(this.key(provider, clientId));
  }

  /** The own app, or an error naming the client id. */
  require(provider: ProviderId, clientId: string): OwnApp {
    const app = this.get(provider, clientId);
    if (!app) throw new Error(`No ${provider} app with client id "${clientId}" (createApp makes one).`);
    return app;
  }

  /** True for the operator's client id and every own app's. */
  known(provider: ProviderId, clientId: string): boolean {
    return clientId === this.operatorClientId(provider) || this.apps.has(this.key(provider, clientId));
  }

  list(provider?: ProviderId): OwnApp[] {
    return [...this.apps.values()].filter((a) => provider === undefined || a.provider === provider);
  }

  /** Runs one `app` action; returns what it produced (setSecret: the new secret), if anything. */
  run(app: OwnApp, action: AppAction, args: unknown[]): string | undefined {
    switch (action) {
      case "addUser":
        app.users.add(nonEmpty("addUser's account id", args[0]));
        return undefined;
      case "removeUser":
        app.users.delete(nonEmpty("removeUser's account id", args[0]));
        return undefined;
      case "setRedirectUris":
        // args: [["uri", …]] or ["uri", …]
        app.redirectUris = list("setRedirectUris' args", Array.isArray(args[0]) ? args[0] : args, redirectUri);
        return undefined;
      case "setSecret":
        app.clientSecret = args[0] === undefined ? hex32() : nonEmpty("setSecret's secret", args[0]);
        return app.clientSecret;
      case "delete":
        this.apps.delete(this.key(app.provider, app.clientId));
        return undefined;
    }
  }
}
