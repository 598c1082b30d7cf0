/**
 * pqsort of Redis's src/pqsort.c: NetBSD's quicksort (Bentley & McIlroy) that sorts only what is
 * needed for the elements of indexes [lrange, rrange] to be in their sorted places. It is not
 * stable, so which of several equal elements a ranged GEOSEARCH COUNT or SORT ... BY ... LIMIT
 * returns depends on its exact steps: this is a step-for-step port, in element indexes where the
 * C code uses byte pointers (every pointer comparison holds the same way on indexes).
 */

/** Anything indexable and writable: a plain array or a typed array (SORT sorts Int32Array ids). */
export interface Sortable<T> {
  [i: number]: T;
  readonly length: number;
}

/** Partially sorts `a` under `cmp` (a qsort comparator) so that a[lrange..rrange] hold their sorted elements. */
export function pqsort<T>(a: Sortable<T>, cmp: (x: T, y: T) => number, lrange: number, rrange: number): void {
  pqsortRange(a, 0, a.length, cmp, lrange, rrange);
}

function swap<T>(a: Sortable<T>, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

function vecswap<T>(a: Sortable<T>, i: number, j: number, n: number): void {
  for (let k = 0; k < n; k++) swap(a, i + k, j + k);
}

function med3<T>(a: Sortable<T>, i: number, j: number, k: number, cmp: (x: T, y: T) => number): number {
  return cmp(a[i]!, a[j]!) < 0
    ? cmp(a[j]!, a[k]!) < 0 ? j : cmp(a[i]!, a[k]!) < 0 ? k : i
    : cmp(a[j]!, a[k]!) > 0 ? j : cmp(a[i]!, a[k]!) < 0 ? i : k;
}

function insertionSort<T>(a: Sortable<T>, base: number, n: number, cmp: (x: T, y: T) => number): void {
  for (let pm = base + 1; pm < base + n; pm++) {
    for (let pl = pm; pl > base && cmp(a[pl - 1]!, a[pl]!) > 0; pl--) swap(a, pl, pl - 1);
  }
}

/** _pqsort on a[base .. base+n). */
function pqsortRange<T>(a: Sortable<T>, base: number, n: number, cmp: (x: T, y: T) => number, lrange: number, rrange: number): void {
  for (;;) {
    let swapCnt = 0;
    if (n < 7) {
      insertionSort(a, base, n, cmp);
      return;
    }
    let pm = base + (n >>> 1);
    if (n > 7) {
      let pl = base;
      let pn = base + n - 1;
      if (n > 40) {
        const d = Math.floor(n / 8);
        pl = med3(a, pl, pl + d, pl + 2 * d, cmp);
        pm = med3(a, pm - d, pm, pm + d, cmp);
        pn = med3(a, pn - 2 * d, pn - d, pn, cmp);
      }
      pm = med3(a, pl, pm, pn, cmp);
    }
    swap(a, base, pm);
    let pa = base + 1;
    let pb = pa;
    let pc = base + n - 1;
    let pd = pc;
    for (;;) {
      let r: number;
      while (pb <= pc && (r = cmp(a[pb]!, a[base]!)) <= 0) {
        if (r === 0) {
          swapCnt = 1;
          swap(a, pa, pb);
          pa++;
        }
        pb++;
      }
      while (pb <= pc && (r = cmp(a[pc]!, a[base]!)) >= 0) {
        if (r === 0) {
          swapCnt = 1;
          swap(a, pc, pd);
          pd--;
        }
        pc--;
      }
      if (pb > pc) break;
      swap(a, pb, pc);
      swapCnt = 1;
      pb++;
      pc--;
    }
    if (swapCnt === 0) {
      insertionSort(a, base, n, cmp);
      return;
    }
    const pn = base + n;
    let r = Math.min(pa - base, pb - pa);
    vecswap(a, base, pb - r, r);
    r = Math.min(pd - pc, pn - pd - 1);
    vecswap(a, pb, pn - r, r);
    r = pb - pa;
    if (r > 1) {
      const l = base;
      const rr = base + r - 1;
      if (!((lrange < l && rrange < l) || (lrange > rr && rrange > rr))) pqsortRange(a, base, r, cmp, lrange, rrange);
    }
    r = pd - pc;
    if (r > 1) {
      base = pn - r;
      n = r;
      const l = base;
      const rr = base + r - 1;
      if (!((lrange < l && rrange < l) || (lrange > rr && rrange > rr))) continue;
    }
    return;
  }
}
