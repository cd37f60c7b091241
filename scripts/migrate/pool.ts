/** Bounded concurrency: a work queue whose handlers may add more work. */
export async function workQueue<T>(
  initial: readonly T[],
  concurrency: number,
  handle: (item: T, push: (more: T) => void) => Promise<void>,
): Promise<void> {
  const queue = [...initial];
  let active = 0;
  let failed: unknown;
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      if (failed !== undefined) return;
      if (queue.length === 0 && active === 0) return resolve();
      while (active < concurrency && queue.length > 0) {
        const item = queue.shift()!;
        active += 1;
        handle(item, (more) => queue.push(more)).then(
          () => {
            active -= 1;
            pump();
          },
          (e: unknown) => {
            failed = e;
            reject(e);
          },
        );
      }
    };
    pump();
  });
}

/** Runs `fn` over `items` with at most `concurrency` in flight; results keep the input order. */
export async function mapPool<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  await workQueue(
    items.map((item, i) => ({ item, i })),
    concurrency,
    async ({ item, i }) => {
      out[i] = await fn(item);
    },
  );
  return out;
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
