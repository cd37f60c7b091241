/**
 * Sends the product's structured logs (firebase-functions/logger writes them through console.*)
 * to bench-results/bench.log instead of the terminal, and counts warnings and errors.
 *
 * Import this FIRST: firebase-functions captures the console methods when its logger loads.
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";

export const RESULTS_DIR = resolve(__dirname, "..", "..", "bench-results");
export const LOG_FILE = join(RESULTS_DIR, "bench.log");

export const logCounts = { info: 0, warn: 0, error: 0 };
/** Log events by name (e.g. "sync.failed"), counted for the report. */
export const logEvents: Record<string, number> = {};

mkdirSync(RESULTS_DIR, { recursive: true });

let buffer: string[] = [];
function flush(): void {
  if (buffer.length === 0) return;
  appendFileSync(LOG_FILE, buffer.join(""));
  buffer = [];
}
setInterval(flush, 1000).unref();
process.on("exit", flush);

function sink(level: keyof typeof logCounts) {
  return (...args: unknown[]) => {
    logCounts[level]++;
    const line = args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ");
    const event = /"message":"([^"]+)"/.exec(line)?.[1];
    if (event) logEvents[event] = (logEvents[event] ?? 0) + 1;
    buffer.push(`${line}\n`);
    if (buffer.length > 500) flush();
  };
}

console.debug = sink("info");
console.info = sink("info");
console.log = sink("info");
console.warn = sink("warn");
console.error = sink("error");
