// Folds concurrent calls for the same key into at most one running call and one follow-up.
// A call made while another runs for its key is answered by the follow-up, which starts after the
// running one ends, so it always reflects everything that happened before the call was made.
// Only this process's calls are folded; losing the map loses nothing but the folding.

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function createDeferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  return { promise, resolve, reject };
}

export function coalesceByKey<T>(run: (value: T) => Promise<void>, keyOf: (value: T) => string) {
  const followUps = new Map<string, { value: T; deferred: Deferred } | null>();

  const start = (key: string, value: T): Promise<void> => {
    followUps.set(key, null);
    const running = run(value);
    const settle = () => {
      const followUp = followUps.get(key);
      if (followUp) {
        start(key, followUp.value).then(followUp.deferred.resolve, followUp.deferred.reject);
      } else {
        followUps.delete(key);
      }
    };
    running.then(settle, settle);
    return running;
  };

  return (value: T): Promise<void> => {
    const key = keyOf(value);
    if (!followUps.has(key)) return start(key, value);
    const followUp = followUps.get(key);
    if (followUp) {
      followUp.value = value;
      return followUp.deferred.promise;
    }
    const deferred = createDeferred();
    followUps.set(key, { value, deferred });
    return deferred.promise;
  };
}
