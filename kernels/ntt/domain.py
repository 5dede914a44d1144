"""Roots of unity of Fr for radix-2 evaluation domains, derived at import from Python ints.

Fr has two-adicity 32: r - 1 = 2^32 * T with T odd. A quadratic non-residue g gives a primitive
2^32-th root ω = g^T, and the primitive n-th root of a domain of size n = 2^k is ω^(2^(32-k)).
The default generator is 7, the multiplicative generator arkworks (ark-bls12-381) uses. snarkjs
(through wasmcurves' FFT) starts from the smallest quadratic non-residue instead, which for this r
is 5 (`SNARKJS_GENERATOR`): its domains hold the same points in another order, so evaluations meant
for a snarkjs zkey must be computed with `domain_root(n, SNARKJS_GENERATOR)`.
"""

from __future__ import annotations

from kernels import params

R = params.R
TWO_ADICITY = ((R - 1) & -(R - 1)).bit_length() - 1          # largest s with 2^s | r - 1
ODD_PART = (R - 1) >> TWO_ADICITY
DEFAULT_GENERATOR = 7


def _is_quadratic_non_residue(g: int) -> bool:
    return pow(g, (R - 1) // 2, R) == R - 1


def smallest_quadratic_non_residue() -> int:
    """The smallest g ≥ 2 with g^((r-1)/2) = -1: the generator wasmcurves (snarkjs) derives its roots from."""
    g = 2
    while not _is_quadratic_non_residue(g):
        g += 1
    return g


SNARKJS_GENERATOR = smallest_quadratic_non_residue()


def two_adic_root(generator: int = DEFAULT_GENERATOR) -> int:
    """A primitive 2^32-th root of unity g^T; raises ValueError if g is a square (then g^T has lower order)."""
    if not _is_quadratic_non_residue(generator % R):
        raise ValueError(f"{generator} is a square in Fr, so it does not generate the 2-Sylow subgroup")
    omega = pow(generator, ODD_PART, R)
    # Order exactly 2^32: ω^(2^32) = 1 and ω^(2^31) = -1 ≠ 1 (checked even under python -O).
    if pow(omega, 1 << TWO_ADICITY, R) != 1 or pow(omega, 1 << (TWO_ADICITY - 1), R) != R - 1:
        raise RuntimeError(f"{generator}^T is not a primitive 2^{TWO_ADICITY}-th root of unity")
    return omega


TWO_ADIC_ROOT = two_adic_root(DEFAULT_GENERATOR)
if TWO_ADICITY != 32:
    raise RuntimeError(f"Fr two-adicity is {TWO_ADICITY}, expected 32: kernels.params.R is wrong")


def log2_size(n: int) -> int:
    """k with n = 2^k; raises ValueError unless n is a power of two with 1 ≤ n ≤ 2^32."""
    if not isinstance(n, int) or n < 1 or n & (n - 1):
        raise ValueError(f"NTT size must be a power of two, got {n}")
    k = n.bit_length() - 1
    if k > TWO_ADICITY:
        raise ValueError(f"NTT size 2^{k} exceeds the two-adicity 2^{TWO_ADICITY} of Fr")
    return k


def domain_root(n: int, generator: int = DEFAULT_GENERATOR) -> int:
    """The primitive n-th root of unity of the size-n domain (n a power of two ≤ 2^32), as an int.

    Raises ValueError for other n, or for a generator that is a square in Fr.
    """
    k = log2_size(n)
    root = TWO_ADIC_ROOT if generator == DEFAULT_GENERATOR else two_adic_root(generator)
    return pow(root, 1 << (TWO_ADICITY - k), R)   # order exactly n, as root has order 2^32
