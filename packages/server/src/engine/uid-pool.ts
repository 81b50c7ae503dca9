/**
 * Hands out one distinct host uid per live sandbox, so no two sandboxes (and no
 * sandbox and host service) ever share an identity outside their namespaces.
 */
export class UidPool {
  private readonly free: number[] = [];
  private readonly used = new Set<number>();

  constructor(
    readonly base: number,
    readonly size: number,
  ) {
    for (let i = size - 1; i >= 0; i--) this.free.push(base + i);
  }

  acquire(): number | undefined {
    const uid = this.free.pop();
    if (uid !== undefined) this.used.add(uid);
    return uid;
  }

  release(uid: number): void {
    if (this.used.delete(uid)) this.free.push(uid);
  }

  get available(): number {
    return this.free.length;
  }

  contains(uid: number): boolean {
    return uid >= this.base && uid < this.base + this.size;
  }
}
