"""Exact linear algebra and polynomials over a prime field, in Python ints, for the MDS checks.

Matrices are lists of rows, vectors and subspace bases are lists of ints, polynomials are
coefficient lists from the constant term up. Sizes here are tiny (t ≤ a few dozen), so clarity wins.
"""

from __future__ import annotations


def identity(t: int) -> list[list[int]]:
    return [[int(i == j) for j in range(t)] for i in range(t)]


def mat_mul(a, b, p: int) -> list[list[int]]:
    cols = list(zip(*b))
    return [[sum(x * y for x, y in zip(row, col)) % p for col in cols] for row in a]


def mat_vec(a, v, p: int) -> list[int]:
    return [sum(x * y for x, y in zip(row, v)) % p for row in a]


def mat_pow(a, e: int, p: int) -> list[list[int]]:
    result, base = identity(len(a)), [row[:] for row in a]
    while e:
        if e & 1:
            result = mat_mul(result, base, p)
        base = mat_mul(base, base, p)
        e >>= 1
    return result


def row_reduce(rows, p: int) -> list[list[int]]:
    """Reduced row echelon form of the rows (zero rows dropped): a canonical basis of their span."""
    m = [[x % p for x in row] for row in rows]
    basis: list[list[int]] = []
    pivots: list[int] = []
    ncols = len(m[0]) if m else 0
    for col in range(ncols):
        pivot = next((r for r in m if r[col]), None)
        if pivot is None:
            continue
        m.remove(pivot)
        inv = pow(pivot[col], -1, p)
        pivot = [x * inv % p for x in pivot]
        m = [[(x - r[col] * y) % p for x, y in zip(r, pivot)] for r in m]
        basis = [[(x - b[col] * y) % p for x, y in zip(b, pivot)] for b in basis]
        basis.append(pivot)
        pivots.append(col)
    return [b for _, b in sorted(zip(pivots, basis))]


def rank(rows, p: int) -> int:
    return len(row_reduce(rows, p)) if rows else 0


def kernel(a, ncols: int, p: int) -> list[list[int]]:
    """A basis of {x : a·x = 0} (the right kernel) for a matrix with `ncols` columns."""
    rref = row_reduce(a, p) if a else []
    pivots = [next(c for c, x in enumerate(r) if x) for r in rref]
    basis = []
    for free in (c for c in range(ncols) if c not in pivots):
        v = [0] * ncols
        v[free] = 1
        for r, c in zip(rref, pivots):
            v[c] = -r[free] % p
        basis.append(v)
    return basis


def same_span(u, w, p: int) -> bool:
    return row_reduce(u, p) == row_reduce(w, p)


def intersection(u, w, p: int) -> list[list[int]]:
    """A basis of span(u) ∩ span(w)."""
    if not u or not w:
        return []
    u, w = row_reduce(u, p), row_reduce(w, p)
    # x in both iff x = Σ a_i u_i = Σ b_j w_j: solve [u^T | -w^T] (a, b) = 0.
    dim = len(u[0])
    system = [[u[i][k] for i in range(len(u))] + [-w[j][k] % p for j in range(len(w))] for k in range(dim)]
    solutions = kernel(system, len(u) + len(w), p)
    vectors = [[sum(s[i] * u[i][k] for i in range(len(u))) % p for k in range(dim)] for s in solutions]
    return row_reduce(vectors, p) if vectors else []


# --- polynomials ---------------------------------------------------------------------------
def poly_trim(f):
    f = list(f)
    while f and f[-1] == 0:
        f.pop()
    return f


def poly_mul(f, g, p: int):
    if not f or not g:
        return []
    out = [0] * (len(f) + len(g) - 1)
    for i, x in enumerate(f):
        for j, y in enumerate(g):
            out[i + j] += x * y             # reduced once per coefficient below
    return poly_trim([v % p for v in out])


def poly_divmod(f, g, p: int):
    f, g = poly_trim(f), poly_trim(g)
    if not g:
        raise ZeroDivisionError("polynomial division by zero")
    inv = pow(g[-1], -1, p)
    dg = len(g) - 1
    r = list(f)                             # entries stay unreduced until the end
    q = [0] * max(0, len(f) - dg)
    for shift in range(len(f) - len(g), -1, -1):
        c = r[shift + dg] % p * inv % p
        q[shift] = c
        if c:
            for i in range(dg):
                r[shift + i] -= c * g[i]
    return poly_trim(q), poly_trim([v % p for v in r[:dg]])


def poly_gcd(f, g, p: int):
    """Monic gcd (the empty list when both are zero)."""
    f, g = poly_trim(f), poly_trim(g)
    while g:
        f, g = g, poly_divmod(f, g, p)[1]
    if not f:
        return []
    inv = pow(f[-1], -1, p)
    return [x * inv % p for x in f]


def poly_powmod(base, e: int, f, p: int):
    result, base = [1], poly_divmod(base, f, p)[1]
    while e:
        if e & 1:
            result = poly_divmod(poly_mul(result, base, p), f, p)[1]
        base = poly_divmod(poly_mul(base, base, p), f, p)[1]
        e >>= 1
    return result


def poly_sub(f, g, p: int):
    n = max(len(f), len(g))
    return poly_trim([((f[i] if i < len(f) else 0) - (g[i] if i < len(g) else 0)) % p for i in range(n)])


def charpoly(a, p: int):
    """Characteristic polynomial det(xI - a), monic, by Faddeev–LeVerrier (needs p > size)."""
    t = len(a)
    c = [0] * (t + 1)
    c[t] = 1
    mk = [[0] * t for _ in range(t)]
    for k in range(1, t + 1):
        mk = mat_mul(a, mk, p)
        for i in range(t):
            mk[i][i] = (mk[i][i] + c[t - k + 1]) % p
        am = mat_mul(a, mk, p)
        c[t - k] = -sum(am[i][i] for i in range(t)) * pow(k, -1, p) % p
    return c


def roots(f, p: int) -> list[int]:
    """The distinct roots of f in F_p (Cantor–Zassenhaus on gcd(f, x^p - x), deterministic)."""
    f = poly_trim(f)
    if len(f) <= 1:
        return []
    g = poly_gcd(f, poly_sub(poly_powmod([0, 1], p, f, p), [0, 1], p), p)
    found: list[int] = []
    stack = [g]
    while stack:
        h = stack.pop()
        if len(h) <= 1:
            continue
        if len(h) == 2:
            found.append(-h[0] * pow(h[1], -1, p) % p)
            continue
        a = 1
        while True:
            # (x + a)^((p-1)/2) - 1 vanishes at the roots r with r + a a non-zero square.
            d = poly_gcd(h, poly_sub(poly_powmod([a, 1], (p - 1) // 2, h, p), [1], p), p)
            if 1 < len(d) < len(h):
                stack += [d, poly_divmod(h, d, p)[0]]
                break
            a += 1
    return sorted(found)


def is_irreducible(f, p: int) -> bool:
    """Berlekamp: f (degree ≥ 1) is irreducible iff squarefree and dim ker(Q - I) = 1."""
    f = poly_trim(f)
    d = len(f) - 1
    if d < 1:
        return False
    if d == 1:
        return True
    derivative = poly_trim([i * f[i] % p for i in range(1, d + 1)])
    if len(poly_gcd(f, derivative, p)) > 1:
        return False
    xp = poly_powmod([0, 1], p, f, p)
    rows, power = [], [1]
    for _ in range(d):
        rows.append(power + [0] * (d - len(power)))          # x^(ip) mod f
        power = poly_divmod(poly_mul(power, xp, p), f, p)[1]
    q_minus_i = [[(rows[i][j] - (i == j)) % p for j in range(d)] for i in range(d)]
    return d - rank(q_minus_i, p) == 1
