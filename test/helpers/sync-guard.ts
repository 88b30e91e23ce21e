/**
 * Drivers and transports must never call back from inside one of their own methods. This wraps
 * an object so that `log.insideCall` is true exactly while one of its methods runs: a callback
 * that finds it true arrived synchronously.
 */
export function guardSynchronousCallbacks<T extends object>(target: T, log: { insideCall: boolean }): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        log.insideCall = true;
        try {
          return value.apply(obj, args);
        } finally {
          log.insideCall = false;
        }
      };
    },
  });
}
