/**
 * Whether writes are fsynced before they are renamed into place (the default, and the promise that a crash
 * leaves each file old or new). Model-based tests, which run thousands of applies against a temp folder,
 * turn it off: it changes when bytes reach the platter, never what smol writes or in which order.
 */
let durable = true;

export function setDurableWrites(on: boolean): void {
  durable = on;
}

export function durableWrites(): boolean {
  return durable;
}
