import PQueue from 'p-queue';

/**
 * Maps `items` through `work` with at most `limit` in flight, keeping the order. For file-system sweeps:
 * one at a time leaves the disk idle between syscalls; all at once opens thousands of files.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const queue = new PQueue({ concurrency: limit });
  return Promise.all(items.map((item) => queue.add(() => work(item)))) as Promise<R[]>;
}
