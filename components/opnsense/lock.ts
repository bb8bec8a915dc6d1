/**
 * Orders writes to one gateway. A firewall change holds the window exclusively: from the configuration
 * revision it may revert to until its probe succeeded (or the revert finished), nothing else is written,
 * because a revert restores the whole config.xml (Core/Api/BackupController::revertBackupAction) and
 * would silently undo a neighbour's change while Pulumi's state says it exists. Other writes (Unbound,
 * WireGuard) do not revert anything and may run side by side.
 */
export interface WriteLock {
  shared<T>(fn: () => Promise<T>): Promise<T>;
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
}

/** First come, first served: an exclusive request waits for running shared ones and blocks later ones. */
export function createWriteLock(): WriteLock {
  type Waiter = { exclusive: boolean; start: () => void };
  const queue: Waiter[] = [];
  let sharedRunning = 0;
  let exclusiveRunning = false;

  const pump = () => {
    while (queue.length > 0) {
      const next = queue[0]!;
      if (next.exclusive) {
        if (exclusiveRunning || sharedRunning > 0) return;
        queue.shift();
        exclusiveRunning = true;
        next.start();
        return;
      }
      if (exclusiveRunning) return;
      queue.shift();
      sharedRunning++;
      next.start();
    }
  };

  const run = <T>(exclusive: boolean, fn: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      queue.push({
        exclusive,
        start: () => {
          fn()
            .then(resolve, reject)
            .finally(() => {
              if (exclusive) exclusiveRunning = false;
              else sharedRunning--;
              pump();
            });
        },
      });
      pump();
    });

  return { shared: (fn) => run(false, fn), exclusive: (fn) => run(true, fn) };
}

/**
 * One lock per gateway URL, shared by every resource the provider instance serves in a run. A plain
 * object, not a Map: Pulumi's closure serializer copies captured objects by value and cannot rebuild a Map.
 */
export function lockRegistry(): (url: string) => WriteLock {
  const locks: Record<string, WriteLock> = {};
  return (url) => {
    const key = url.replace(/\/+$/, "").replace(/\/api$/, "");
    return (locks[key] ??= createWriteLock());
  };
}
