/**
 * The HTTP server: routes a request to its provider handler, then applies (in order) an injected
 * fault, the rolling rate limit (API routes only), the handler, and the global latency.
 * Hung requests are held until the client gives up or the server stops; `hung()` lists them with
 * the client's port, so a test can find the process that made one (chaos tests kill it).
 */
import * as http from "node:http";
import type { IncomingHttpHeaders } from "node:http";
import { PROVIDERS } from "../../functions/src/providers/catalog";
import type { ProviderId } from "./data";
import { type ActiveFault, type RouteKind, breakOneItem, breakSchema, truncate } from "./faults";
import { type Answer, HANG, type Reply, type Rq, json } from "./reply";
import type { FakeState } from "./state";

export interface Route {
  provider: ProviderId;
  method: "GET" | "POST";
  /** Path below the fake's root, matched in full (it starts with one of the provider's route prefixes). */
  pattern: RegExp;
  /** Name used by faults and stats, e.g. "me/playlists" (one of the provider's `endpoints`). */
  endpoint: string;
  kind: RouteKind;
  /** The fake account a request concerns (token owner, code owner, file owner), for per-account faults. */
  account?: (rq: Rq) => string | undefined;
  /** The client id a request is made as (token POST credentials, the app a token was issued to), for per-app faults and budgets. */
  app?: (rq: Rq) => string | undefined;
  handle: (rq: Rq) => Answer | Promise<Answer>;
}

export interface ProviderHandlers {
  routes: Route[];
  /** How this provider answers an injected error fault (429, 5xx, 403, invalid_grant, ig190). */
  faultReply: (fault: ActiveFault, route: Route) => Reply;
  /** How this provider answers a request over the rolling rate limit. */
  rateLimited: (retryAfterSeconds: number) => Reply;
}

/** A request the server holds (a "hang" fault): the client's side of the socket. */
export interface HungRequest {
  method: string;
  path: string;
  /** The fake account the request concerns, where the route knows it (token owner, file owner). */
  accountId: string | undefined;
  /** The client's port on its side of the connection (its local port). */
  remotePort: number | undefined;
  since: number;
}

export type ControlHandler = (op: string, body: unknown) => Promise<unknown>;

const MAX_BODY_BYTES = 1 << 20;

export class FakeServer {
  readonly http: http.Server;
  private readonly held = new Map<http.ServerResponse, HungRequest>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly routes: Route[];

  constructor(
    private readonly state: FakeState,
    private readonly providers: Record<ProviderId, ProviderHandlers>,
    private readonly control: ControlHandler,
  ) {
    this.routes = PROVIDERS.flatMap((p) => providers[p].routes);
    this.http = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { "content-type": "text/plain" });
          res.end(`fake-providers: ${err instanceof Error ? err.message : String(err)}`);
        }
      });
    });
  }

  listen(host: string, port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      this.http.once("error", reject);
      this.http.listen(port, host, () => {
        this.http.off("error", reject);
        const addr = this.http.address();
        if (!addr || typeof addr === "string") return reject(new Error("fake-providers: no address"));
        resolve(`http://${host}:${addr.port}`);
      });
    });
  }

  /** Stops listening, drops hung and open connections, cancels pending delays. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const res of this.held.keys()) res.destroy();
    this.held.clear();
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeAllConnections();
    await closed;
  }

  /** The requests held now (oldest first). */
  hung(): HungRequest[] {
    return [...this.held.values()];
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const bodyText = await readBody(req);
    const seen: { accountId?: string } = {};
    const answer = await this.respond(req.method ?? "GET", req.url ?? "/", req.headers, bodyText, seen);
    if (answer === HANG) {
      this.held.set(res, {
        method: req.method ?? "GET",
        path: new URL(req.url ?? "/", "http://fake").pathname,
        accountId: seen.accountId,
        remotePort: req.socket.remotePort,
        since: Date.now(),
      });
      res.on("close", () => this.held.delete(res));
      return;
    }
    send(res, answer);
  }

  /**
   * What the server answers to one request, without a socket: the control API, or the route with
   * its fault, rate limit, handler and latency. The HTTP handler writes it; unit tests (where
   * sockets are refused) call it directly. `seen` receives the account the route names.
   */
  async respond(
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    bodyText: string,
    seen: { accountId?: string } = {},
  ): Promise<Answer> {
    const url = new URL(path, this.state.baseUrl || "http://127.0.0.1");

    if (url.pathname === "/_control" || url.pathname.startsWith("/_control/")) {
      const op = url.pathname.slice("/_control/".length);
      let payload: unknown = {};
      try {
        payload = bodyText ? JSON.parse(bodyText) : {};
      } catch {
        return json(400, { error: "The control API takes a JSON body." });
      }
      try {
        const result = await this.control(op, payload);
        return json(200, result ?? { ok: true });
      } catch (err) {
        return json(400, { error: err instanceof Error ? err.message : String(err) });
      }
    }

    const candidates = this.routes.filter((r) => r.pattern.test(url.pathname));
    const route = candidates.find((r) => r.method === method);
    if (!route) {
      return candidates.length > 0
        ? json(405, { error: { status: 405, message: "Method not allowed" } })
        : json(404, { error: { status: 404, message: `fake-providers: no route for ${url.pathname}` } });
    }
    const contentType = String(headers["content-type"] ?? "");
    const rq: Rq = {
      method,
      path: url.pathname,
      url,
      query: url.searchParams,
      form: contentType.includes("application/x-www-form-urlencoded")
        ? new URLSearchParams(bodyText)
        : new URLSearchParams(),
      body: bodyText,
      headers,
      params: route.pattern.exec(url.pathname)!.slice(1),
    };
    this.state.count(route.provider, route.endpoint);
    const handlers = this.providers[route.provider];
    const clientId = route.app?.(rq);
    const accountId = route.account?.(rq);
    if (accountId !== undefined) seen.accountId = accountId;
    const fault = this.state.faults.take(route.provider, route.endpoint, route.kind, accountId, clientId);

    let answer: Answer | undefined;
    if (fault) {
      switch (fault.kind) {
        case "hang":
          answer = HANG;
          break;
        case "slow":
          await this.sleep(fault.delayMs ?? 2000);
          break;
        case "malformed":
        case "schema":
        case "bad-item":
          break; // answered normally, then broken below
        default:
          answer = handlers.faultReply(fault, route);
      }
    }
    if (answer === undefined && route.kind === "api") {
      const retryAfter = this.state.limiter(route.provider, clientId).check(this.state.clock.nowMs());
      if (retryAfter !== undefined) answer = handlers.rateLimited(retryAfter);
    }
    if (answer === undefined) {
      answer = await route.handle(rq);
      if (answer !== HANG && fault) answer = breakBody(answer, fault);
    }
    if (answer === HANG) return HANG;
    if (answer.status === 429) this.state.stats.rateLimited++;
    if (this.state.latencyMs > 0) await this.sleep(this.state.latencyMs);
    return answer;
  }
}

function breakBody(reply: Reply, fault: ActiveFault): Reply {
  if (reply.status !== 200 || reply.body === undefined) return reply;
  const isJson = (reply.headers?.["content-type"] ?? "").includes("json");
  if (fault.kind === "malformed") return { ...reply, body: truncate(reply.body) };
  if (fault.kind === "schema" && !isJson) {
    return { status: 200, headers: { "content-type": "text/html; charset=utf-8" }, body: "<html>not a file</html>" };
  }
  if (!isJson) return reply;
  const value = JSON.parse(reply.body.toString()) as unknown;
  const broken = fault.kind === "schema" ? breakSchema(value) : fault.kind === "bad-item" ? breakOneItem(value) : value;
  return { ...reply, body: JSON.stringify(broken) };
}

function send(res: http.ServerResponse, reply: Reply): void {
  if (res.destroyed || res.headersSent) return;
  const body = reply.body ?? "";
  res.writeHead(reply.status, { ...reply.headers, "content-length": String(Buffer.byteLength(body)) });
  res.end(body);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error("request body too large"));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
