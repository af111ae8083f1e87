/**
 * A zod schema built at its first use: what a module exports as a schema (`putIdSchema`, `dictSchema`) without
 * loading zod when it is imported (./envelopes.ts says why). The value stands for the schema: every property read
 * goes to the built schema, methods bound to it.
 */
export function lazySchema<S extends object>(build: () => S): S {
  let built: S | undefined;
  const schema = (): S => {
    built ??= build();
    return built;
  };
  return new Proxy({} as S, {
    get(_target, key) {
      const target = schema();
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
    has: (_target, key) => Reflect.has(schema(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(schema()),
  });
}
