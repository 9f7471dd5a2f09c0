"""Covering arrays: every t-tuple of parameter values in at least one row, in few rows.

For strength 2 without constraints the best of: an orthogonal array OA(q², q+1, q, 2) over GF(q) for the
smallest prime power q >= the largest domain when there are at most q+1 parameters (optimal, q², when the
largest domain is a prime power); the Kleitman-Spencer binary construction (optimal for two-valued
parameters: all ⌈N/2⌉-subsets of N-1 rows as columns, plus a row of zeros); and an AETG-style greedy
(seeded, deterministic) with numpy bookkeeping followed by removal of redundant rows. With constraints, or for
strength 3 and more, a greedy that builds one row at a time and consults ``allowed`` on partial rows.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Mapping, Sequence
from functools import cache

import numpy as np

from flowcase.model.expr import Value

Row = tuple[int, ...]
Allowed = Callable[[dict[int, int]], bool]
CANDIDATES = 40
CANDIDATES = 30  # candidate rows per row of the constraint-aware greedy
EFFORT = 1_000_000  # cell evaluations the row-removal local search may spend
SEED = 20261127
MAX_TUPLES = 2_000_000


def lower_bound(sizes: Sequence[int], strength: int = 2) -> int:
    """The product of the ``strength`` largest domains."""
    return math.prod(sorted(sizes, reverse=True)[:strength])


def pairwise(
    domains: Mapping[str, Sequence[Value]],
    strength: int = 2,
    constraints: Callable[[dict[str, Value]], bool] | None = None,
    effort: int = EFFORT,
) -> list[dict[str, Value]]:
    """Rows covering every ``strength``-tuple of values; ``constraints`` sees partial rows and says if they may stand.

    A tuple that ``constraints`` refuses on its own is not required; the rows themselves always satisfy it.
    ``effort`` bounds the local search that tries to remove rows after the greedy (0 to skip it).
    """
    names = list(domains)
    values = [list(domains[n]) for n in names]
    if any(not v for v in values):
        raise ValueError("every parameter needs at least one value")
    allowed: Allowed | None = None
    if constraints is not None:
        check = constraints

        def allowed(partial: dict[int, int]) -> bool:
            return check({names[c]: values[c][v] for c, v in sorted(partial.items())})

    rows = covering_array([len(v) for v in values], strength, allowed, effort=effort)
    return [{names[c]: values[c][r[c]] for c in range(len(names))} for r in rows]


def covering_array(
    sizes: Sequence[int],
    strength: int = 2,
    allowed: Allowed | None = None,
    seed: Row | None = None,
    effort: int = EFFORT,
) -> list[Row]:
    """Rows of value indices covering every allowed ``strength``-tuple; the first row is ``seed`` when given."""
    sizes = list(sizes)
    k = len(sizes)
    if k == 0:
        return [()]
    strength = max(1, min(strength, k))
    if allowed is None and strength == 2 and k >= 2:
        options = _constructions(sizes)
        if not options or (max(sizes) > 2 and min(len(o) for o in options) > lower_bound(sizes)):
            options.append(_greedy2(sizes))
        best = min(options, key=len)
        if len(best) > lower_bound(sizes) and effort > 0 and max(sizes) > 2:
            best = _shrink(best, sizes, effort)
        return put_first(best, seed, sizes)
    return _greedy_general(sizes, strength, allowed, seed)


def put_first(rows: list[Row], seed: Row | None, sizes: Sequence[int]) -> list[Row]:
    """Relabel values per column so that ``seed`` is a row, and move it to the front."""
    if seed is None or not rows:
        return rows
    if seed in rows:
        return [seed, *[r for r in rows if r != seed]]
    first = rows[0]
    relabeled = []
    for r in rows:
        new = []
        for c, v in enumerate(r):
            if v == first[c]:
                new.append(seed[c])
            elif v == seed[c]:
                new.append(first[c])
            else:
                new.append(v)
        relabeled.append(tuple(new))
    return relabeled


def _constructions(sizes: list[int]) -> list[list[Row]]:
    found = []
    v = max(sizes)
    k = len(sizes)
    if v <= 2:
        found.append(_binary(k, sizes))
    q = next((q for q in range(max(v, 2), 64) if _prime_power(q)), None)
    if q is not None and k <= q + 1:
        found.append(_collapse(_orthogonal(q, k), sizes))
    return found


def _collapse(rows: list[Row], sizes: list[int]) -> list[Row]:
    out: list[Row] = []
    seen: set[Row] = set()
    for r in rows:
        row = tuple(x if x < s else x % s for x, s in zip(r, sizes, strict=True))
        if row not in seen:
            seen.add(row)
            out.append(row)
    return _drop_redundant(out, sizes)


def _binary(k: int, sizes: list[int]) -> list[Row]:
    n = 2
    while math.comb(n - 1, (n + 1) // 2) < k:
        n += 1
    columns = list(itertools.islice(itertools.combinations(range(1, n), (n + 1) // 2), k))
    rows = [tuple(int(i in col) for col in columns) for i in range(n)]
    return _collapse(rows, sizes)


def _prime_power(q: int) -> bool:
    return q >= 2 and len(_factor(q)) == 1


def _factor(q: int) -> dict[int, int]:
    found: dict[int, int] = {}
    p = 2
    while p * p <= q:
        while q % p == 0:
            found[p] = found.get(p, 0) + 1
            q //= p
        p += 1
    if q > 1:
        found[q] = found.get(q, 0) + 1
    return found


@cache
def _field(q: int) -> tuple[tuple[tuple[int, ...], ...], tuple[tuple[int, ...], ...]]:
    """Addition and multiplication tables of GF(q), elements as base-p digit vectors packed in ints."""
    ((p, n),) = _factor(q).items()

    def digits(x: int) -> list[int]:
        return [(x // p**i) % p for i in range(n)]

    def pack(d: Sequence[int]) -> int:
        return sum((c % p) * p**i for i, c in enumerate(d))

    add = tuple(
        tuple(pack([a + b for a, b in zip(digits(x), digits(y), strict=True)]) for y in range(q)) for x in range(q)
    )
    if n == 1:
        return add, tuple(tuple((x * y) % p for y in range(q)) for x in range(q))
    for tail in itertools.product(range(p), repeat=n):  # monic x^n + tail: try until it yields a field

        def mul(x: int, y: int, tail: tuple[int, ...] = tail) -> int:
            prod = [0] * (2 * n - 1)
            for i, a in enumerate(digits(x)):
                for j, b in enumerate(digits(y)):
                    prod[i + j] += a * b
            for deg in range(2 * n - 2, n - 1, -1):
                c = prod[deg] % p
                if c:
                    prod[deg] = 0
                    for i, t in enumerate(tail):
                        prod[deg - n + i] -= c * t
            return pack(prod[:n])

        table = tuple(tuple(mul(x, y) for y in range(q)) for x in range(q))
        if all(any(table[x][y] == 1 for y in range(q)) for x in range(1, q)):
            return add, table
    raise ValueError(f"no field of order {q}")  # pragma: no cover


def _orthogonal(q: int, k: int) -> list[Row]:
    add, mul = _field(q)
    rows = []
    for x in range(q):
        for y in range(q):
            cols = [add[mul[x][m]][y] for m in range(q)] + [x]
            rows.append(tuple(cols[:k]))
    return rows


def _drop_redundant(rows: list[Row], sizes: list[int]) -> list[Row]:
    """Remove rows (last first) whose pairs all appear in other rows."""
    k = len(sizes)
    if k < 2 or not rows:
        return rows
    arr = np.array(rows, dtype=np.int64)
    v = max(sizes)
    counts = np.zeros((k, k, v, v), dtype=np.int64)
    ii, jj = np.triu_indices(k, 1)
    for r in arr:
        np.add.at(counts, (ii, jj, r[ii], r[jj]), 1)
    keep = np.ones(len(rows), dtype=bool)
    for idx in range(len(rows) - 1, -1, -1):
        r = arr[idx]
        if np.all(counts[ii, jj, r[ii], r[jj]] >= 2):
            keep[idx] = False
            np.add.at(counts, (ii, jj, r[ii], r[jj]), -1)
    return [rows[i] for i in range(len(rows)) if keep[i]]


def _greedy2(sizes: list[int]) -> list[Row]:
    """AETG-style greedy for pairs, deterministic (fixed seed), with numpy bookkeeping."""
    k = len(sizes)
    v = max(sizes)
    rng = np.random.default_rng(SEED)
    size = np.array(sizes)
    valid = np.arange(v)[None, :] < size[:, None]  # (k, v)
    uncovered = valid[:, None, :, None] & valid[None, :, None, :]
    uncovered[np.arange(k), np.arange(k)] = False
    rows: list[Row] = []

    def mark(row: np.ndarray) -> None:
        uncovered[np.arange(k)[:, None], np.arange(k)[None, :], row[:, None], row[None, :]] = False

    while uncovered.any():
        per_value = uncovered.sum(axis=(1, 3))  # (k, v): uncovered pairs each value still needs
        best_row: np.ndarray | None = None
        best_gain = -1
        for _ in range(CANDIDATES):
            row = np.full(k, -1)
            flat = per_value.ravel().astype(float) + rng.random(k * v) * 0.5
            first = int(np.argmax(flat))
            c0, v0 = divmod(first, v)
            row[c0] = v0
            assigned = [c0]
            gain = 0
            for c in rng.permutation(k):
                if c == c0:
                    continue
                scores = uncovered[c, assigned, :, row[assigned]].sum(axis=0).astype(float)
                scores[sizes[c] :] = -1.0
                scores += rng.random(v) * 0.5 + per_value[c] * 1e-3
                choice = int(np.argmax(scores))
                gain += int(uncovered[c, assigned, choice, row[assigned]].sum())
                row[c] = choice
                assigned.append(int(c))
            if gain > best_gain:
                best_gain, best_row = gain, row
        assert best_row is not None
        rows.append(tuple(int(x) for x in best_row))
        mark(best_row)
    return _drop_redundant(rows, sizes)


def _tuples(sizes: list[int], strength: int, allowed: Allowed | None) -> set[tuple[tuple[int, int], ...]]:
    found = set()
    total = 0
    for cols in itertools.combinations(range(len(sizes)), strength):
        for vals in itertools.product(*(range(sizes[c]) for c in cols)):
            total += 1
            if total > MAX_TUPLES:
                raise ValueError(f"too many {strength}-tuples to cover (more than {MAX_TUPLES})")
            t = tuple(zip(cols, vals, strict=True))
            if allowed is None or allowed(dict(t)):
                found.add(t)
    return found


def _greedy_general(
    sizes: list[int], strength: int, allowed: Allowed | None, seed: Row | None, candidates: int = CANDIDATES
) -> list[Row]:
    """AETG-style: each row is the best of ``candidates`` rows, each grown from an uncovered tuple by choosing, column
    by column in a shuffled order (fixed seed), the allowed value that covers the most uncovered tuples. Then rows
    that cover nothing of their own are dropped."""
    k = len(sizes)
    todo = _tuples(sizes, strength, allowed)
    rows: list[Row] = []
    rng = random.Random(0)  # noqa: S311 - deterministic search order, not security

    def covered(row: Row) -> set[tuple[tuple[int, int], ...]]:
        return {tuple((c, row[c]) for c in cols) for cols in itertools.combinations(range(k), strength)}

    def grow(target: tuple[tuple[int, int], ...], order: list[int]) -> Row | None:
        partial = dict(target)
        for c in order:
            if c in partial:
                continue
            best, best_score = -1, -1
            for val in range(sizes[c]):
                trial = {**partial, c: val}
                if allowed is not None and not allowed(trial):
                    continue
                score = sum(
                    1
                    for others in itertools.combinations(sorted(partial), strength - 1)
                    if tuple(sorted([(o, partial[o]) for o in others] + [(c, val)])) in todo
                )
                if score > best_score:
                    best, best_score = val, score
            if best < 0:
                return None
            partial[c] = best
        return tuple(partial[c] for c in range(k))

    if seed is not None and (allowed is None or allowed(dict(enumerate(seed)))):
        rows.append(tuple(seed))
        todo -= covered(tuple(seed))
    while todo:
        first = min(todo)
        row = grow(first, list(range(k)))
        if row is None:
            todo.discard(first)  # no row can hold it under the constraints
            continue
        best_row, best_gain = row, len(covered(row) & todo)
        pool = sorted(todo)
        for _ in range(candidates - 1):
            order = list(range(k))
            rng.shuffle(order)
            trial = grow(pool[rng.randrange(len(pool))], order)
            if trial is not None:
                gain = len(covered(trial) & todo)
                if gain > best_gain:
                    best_row, best_gain = trial, gain
        rows.append(best_row)
        todo -= covered(best_row)
    return _drop_redundant(rows, sizes) if strength == 2 else rows


class _Pairs:
    """Pair counts of an array, with the uncovered pairs kept in an indexable set."""

    def __init__(self, rows: list[list[int]], sizes: list[int]) -> None:
        self.sizes = sizes
        self.k = len(sizes)
        self.offset: dict[tuple[int, int], int] = {}
        self.info: list[tuple[int, int, int, int]] = []
        for i in range(self.k):
            for j in range(i + 1, self.k):
                self.offset[i, j] = len(self.info)
                self.info.extend((i, a, j, b) for a in range(sizes[i]) for b in range(sizes[j]))
        self.count = [0] * len(self.info)
        for r in rows:
            self.add_row(r, 1)
        self.uncovered = [p for p, c in enumerate(self.count) if c == 0]
        self.where = {p: n for n, p in enumerate(self.uncovered)}

    def index(self, i: int, a: int, j: int, b: int) -> int:
        if i > j:
            i, a, j, b = j, b, i, a
        return self.offset[i, j] + a * self.sizes[j] + b

    def add_row(self, r: Sequence[int], step: int) -> None:
        for (i, j), base in self.offset.items():
            self.count[base + r[i] * self.sizes[j] + r[j]] += step

    def alone(self, r: Sequence[int]) -> int:
        return sum(1 for (i, j), base in self.offset.items() if self.count[base + r[i] * self.sizes[j] + r[j]] == 1)

    def change(self, row: list[int], c: int, new: int) -> int:
        """Set ``row[c] = new``; returns the change in the number of uncovered pairs."""
        old = row[c]
        if old == new:
            return 0
        delta = 0
        count, uncovered, where = self.count, self.uncovered, self.where
        for j in range(self.k):
            if j == c:
                continue
            gone = self.index(c, old, j, row[j])
            count[gone] -= 1
            if count[gone] == 0:
                delta += 1
                where[gone] = len(uncovered)
                uncovered.append(gone)
            came = self.index(c, new, j, row[j])
            if count[came] == 0:
                delta -= 1
                n = where.pop(came)
                last = uncovered.pop()
                if last != came:
                    uncovered[n] = last
                    where[last] = n
            count[came] += 1
        row[c] = new
        return delta


def _shrink(rows: list[Row], sizes: list[int], effort: int) -> list[Row]:
    """Remove rows one at a time, repairing the pairs lost by a randomised local search (fixed seed).

    Each round drops the row that alone covers the fewest pairs. Then, repeatedly: pick an uncovered pair
    (i=a, j=b); among the rows that already have i=a or j=b, find the single cell change that uncovers fewest
    pairs; make it when it does not lose ground (or, rarely, anyway). A round that cannot repair every pair
    within the remaining ``effort`` (cell evaluations) ends the search; the last complete array is returned.
    """
    k = len(sizes)
    rnd = random.Random(SEED)  # noqa: S311 - reproducible search, not cryptography
    current = [list(r) for r in rows]
    best = list(rows)
    floor = lower_bound(sizes)
    while effort > 0 and len(current) > floor:
        state = _Pairs(current, sizes)
        alone = [state.alone(r) for r in current]
        current.pop(min(range(len(current)), key=lambda x: (alone[x], x)))
        state = _Pairs(current, sizes)
        while state.uncovered and effort > 0:
            i, a, j, b = state.info[state.uncovered[rnd.randrange(len(state.uncovered))]]
            moves = [(row, j, b) if row[i] == a else (row, i, a) for row in current if row[i] == a or row[j] == b]
            if not moves:
                moves = [(current[rnd.randrange(len(current))], i, a)]
            best_delta, best_moves = len(state.info), []
            for row, c, v in moves:
                effort -= k
                old = row[c]
                delta = state.change(row, c, v)
                state.change(row, c, old)
                if delta < best_delta:
                    best_delta, best_moves = delta, [(row, c, v)]
                elif delta == best_delta:
                    best_moves.append((row, c, v))
            row, c, v = best_moves[rnd.randrange(len(best_moves))]
            if best_delta <= 0 or rnd.random() < 0.02:
                state.change(row, c, v)
        if state.uncovered:
            break
        best = [tuple(r) for r in current]
    return best
