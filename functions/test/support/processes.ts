/**
 * Finds the local process on the client side of a loopback TCP connection (Linux /proc), so a
 * chaos test can kill the emulated function's worker that holds a request to the fake providers.
 */
import { readFileSync, readdirSync, readlinkSync } from "node:fs";

/** The inode of the socket whose local port is `clientPort` and remote port `serverPort`. */
function socketInode(clientPort: number, serverPort: number): string | undefined {
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const local = parseInt(f[1]!.split(":").pop()!, 16);
      const remote = parseInt(f[2]!.split(":").pop()!, 16);
      if (local === clientPort && remote === serverPort && f[9] !== "0") return f[9];
    }
  }
  return undefined;
}

/** The pid holding the client end of a loopback connection to `serverPort` from `clientPort`. */
export function pidOfLoopbackClient(clientPort: number, serverPort: number): number | undefined {
  const inode = socketInode(clientPort, serverPort);
  if (!inode) return undefined;
  const target = `socket:[${inode}]`;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${entry}/fd/${fd}`) === target) return Number(entry);
      } catch {
        // The fd closed while we looked.
      }
    }
  }
  return undefined;
}

/** The process's command line (NUL-separated arguments joined by spaces), or "" once it is gone. */
export function commandLineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "";
  }
}
