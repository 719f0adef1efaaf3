/**
 * A bounded buffer, newest first: pushing past `capacity` drops the oldest, so a live log that
 * runs for hours holds a fixed amount of memory. `version` changes on every push, for renders.
 */
export class Ring<T> {
  private items: (T | undefined)[];
  private head = 0; // where the next item goes
  private size = 0;
  version = 0;

  constructor(readonly capacity: number) {
    this.items = new Array(capacity);
  }

  push(item: T): void {
    this.items[this.head] = item;
    this.head = (this.head + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
    this.version++;
  }

  get length(): number {
    return this.size;
  }

  /** The i-th newest item (0 is the newest). */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.size) return undefined;
    return this.items[(this.head - 1 - i + this.capacity * 2) % this.capacity];
  }

  clear(): void {
    this.items = new Array(this.capacity);
    this.head = 0;
    this.size = 0;
    this.version++;
  }
}
