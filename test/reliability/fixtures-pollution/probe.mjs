// Preloaded into the standalone server child (`node --import …/probe.mjs dist/bundle/standalone.cjs`):
// answers the test's `{ type: 'prototype-state' }` messages on the IPC channel with this
// process's prototype state (the same fields as prototype-state.ts), so the pollution canary
// is read inside the server itself. It changes nothing and loads nothing.
if (typeof process.send === 'function') {
  process.on('message', (message) => {
    if (!message || message.type !== 'prototype-state') return;
    process.send({
      type: 'prototype-state',
      id: message.id,
      state: {
        objectPrototype: Object.getOwnPropertyNames(Object.prototype).sort(),
        objectStatics: Object.getOwnPropertyNames(Object).sort(),
        polluted: typeof {}.polluted,
        protoAccessor: Object.getOwnPropertyDescriptor(Object.prototype, '__proto__') !== undefined,
      },
    });
  });
  // The channel must not keep the process alive once the server has stopped.
  process.channel?.unref();
}
