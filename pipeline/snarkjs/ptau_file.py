"""snarkjs powers-of-tau files (.ptau: iden3 container, magic "ptau", version 1), phase-2 ready,
made by one party for benchmarks and tests.

snarkjs makes such a file with `powersoftau new`, `contribute` and `prepare phase2`; the last step
alone takes minutes at 2^12 on two cores and grows ~2.2× per power. `write_ptau` makes the same
prepared file directly: τ, α, β from the OS CSPRNG (erased after use), every point computed by the
kernels' fixed-base multiplication. Sections (points affine, each Fq coordinate Montgomery with
R = 2^384, little-endian: the kernels' uint32 layout, as ffjavascript's `toRprLEM`):

   1 header: u32 n8 = 48, q (48 bytes LE), u32 power, u32 ceremonyPower (= power)
   2 tauG1       τ^i·G1, i < 2^(power+1) − 1           3 tauG2      τ^i·G2, i < 2^power
   4 alphaTauG1  α·τ^i·G1, i < 2^power                  5 betaTauG1  β·τ^i·G1, i < 2^power
   6 betaG2      β·G2
   7 contributions: u32 count, then per contribution τG1, τG2, αG1, βG1, βG2, the proof-of-knowledge
     key (6 G1, 3 G2), a 216-byte partial hash, a 64-byte next-challenge hash, u32 type, u32 length
     and parameters (1: name as u8 length + bytes)
  12 lagrange tauG1: for p = 0 .. power + 1, the 2^p points L_i(τ)·G1 of the domain of size 2^p
     (p = power + 1 is built, as snarkjs does, from the 2^(power+1) − 1 powers with the last set to
     zero: L_i(τ) − ω^i·τ^(N−1)/N; exact for polynomials of degree < N − 1, which is all the H query
     of a 2^power-row circuit needs)
  13 lagrange tauG2, 14 lagrange alphaTauG1, 15 lagrange betaTauG1: for p = 0 .. power
  (Lagrange bases on snarkjs's domains: roots of unity from the non-residue 5, natural order.)

The one contribution is named `ONE_PARTY_PTAU_LABEL`; its proof-of-knowledge key and transcript
hashes are zero, since no transcript exists: `snarkjs powersoftau verify` rejects the file, while
`snarkjs groth16 setup` (which reads sections 1, 4, 5, 6 and 12–15) takes it. Whoever ran this could
forge proofs for every key made from the file had the secrets not been erased: use it for
benchmarks and tests only, never for keys that protect anything.
"""

from __future__ import annotations

import secrets
import struct
import time
from pathlib import Path

import numpy as np

from kernels import params
from kernels.ff.fields import FR, fr
from kernels.ntt import SNARKJS_GENERATOR, domain_root
from pipeline.errors import InputError
from pipeline.snarkjs.binfile import Reader, contribution_params, read_binfile, read_contribution_params

ONE_PARTY_PTAU_LABEL = "one-party test ceremony (zkp-ledger): benchmarks/tests only"
MAX_POWER = 28                     # snarkjs's limit (Fr has 2^32 roots; files past 2^28 are impractical)
G1_BYTES, G2_BYTES = 96, 192       # affine, two (G1) or four (G2) 48-byte Fq coordinates
_PUBKEY_BYTES = 6 * G1_BYTES + 3 * G2_BYTES
_CHUNK = 1 << 15                   # scalars per fixed-base batch (bounds the memory in flight)

assert len(ONE_PARTY_PTAU_LABEL.encode()) <= 64   # snarkjs keeps at most 64 bytes of a name


def _powers(first: np.ndarray, base: np.ndarray, count: int) -> np.ndarray:
    """(count, 8) Montgomery first·base^i."""
    from kernels.ntt.radix2 import default_chunks, scale_by_powers

    out = np.empty((count, FR.nlimbs), np.uint32)
    if count:
        scale_by_powers(out, base, first, default_chunks(), True)
    return out


def _pow2k(x: np.ndarray, k: int) -> np.ndarray:
    """x^(2^k) (Montgomery)."""
    t = x.copy()
    for _ in range(k):
        fr.mul(t, t, t)
    return t


def _lagrange(tau: np.ndarray, log_size: int) -> np.ndarray:
    """(2^log_size, 8) Montgomery L_i(τ) on snarkjs's domain of that size."""
    from pipeline.groth16.setup import _lagrange_at

    size = 1 << log_size
    return _lagrange_at(tau, size, domain_root(size, SNARKJS_GENERATOR))


class _Writer:
    """Sequential writer of an iden3 container whose section sizes are known in advance."""

    def __init__(self, f, n_sections: int):
        self.f = f
        f.write(struct.pack("<4sII", b"ptau", 1, n_sections))
        self.left = 0

    def begin(self, kind: int, size: int) -> None:
        assert self.left == 0, "previous section not complete"
        self.f.write(struct.pack("<IQ", kind, size))
        self.left = size

    def write(self, data) -> None:
        data = memoryview(data).cast("B")
        self.left -= len(data)
        assert self.left >= 0, "section overflow"
        self.f.write(data)


def write_ptau(path, power: int, *, name: str = ONE_PARTY_PTAU_LABEL, log=None) -> dict:
    """Write a phase-2-ready powers-of-tau file of `power` (circuits up to 2^power QAP rows) to `path`.

    Secrets come from the OS CSPRNG and are zeroed after use. Writes to `path` + ".tmp" and renames,
    so a crash never leaves a half file under the final name. `log` (a callable taking a str) gets a
    line per section. Returns {"power", "bytes", "seconds", "label"}. Raises InputError for a power
    outside 1 .. MAX_POWER or a name longer than 64 bytes.
    """
    from kernels.ec.fixed_base import FixedBase
    from kernels.ec.points import g1_generator, g2_generator

    if not isinstance(power, int) or not 1 <= power <= MAX_POWER:
        raise InputError(f"ptau power must be an integer in [1, {MAX_POWER}], got {power!r}")
    name_bytes = name.encode()
    if len(name_bytes) > 64:
        raise InputError(f"ptau contribution name is {len(name_bytes)} bytes; snarkjs keeps at most 64")
    start = time.perf_counter()
    say = log or (lambda _msg: None)
    path = Path(path)
    n = 1 << power
    n_tau_g1 = 2 * n - 1
    lag_g1 = (1 << (power + 2)) - 1          # Σ_{p=0}^{power+1} 2^p
    lag = (1 << (power + 1)) - 1             # Σ_{p=0}^{power} 2^p
    params_bytes = bytes([1, len(name_bytes)]) + name_bytes
    contrib_size = 4 + 3 * G1_BYTES + 2 * G2_BYTES + _PUBKEY_BYTES + 216 + 64 + 4 + 4 + len(params_bytes)

    g1 = FixedBase(g1_generator(), "g1", expected=lag_g1)
    g2 = FixedBase(g2_generator(), "g2", expected=lag)
    secret = np.stack([FR.element(secrets.randbelow(params.R - 1) + 1) for _ in range(3)])   # τ, α, β
    scratch: list[np.ndarray] = []
    firsts: dict[str, bytes] = {}

    def emit(w: _Writer, group: FixedBase, mont: np.ndarray, key: str | None = None) -> None:
        """Points scalar·G for Montgomery scalars, written in chunks (the scalars are zeroed)."""
        for lo in range(0, mont.shape[0], _CHUNK):
            plain = np.empty_like(mont[lo:lo + _CHUNK])
            FR.from_mont_vec(plain, np.ascontiguousarray(mont[lo:lo + _CHUNK]))
            pts = group.mul(plain)
            plain.fill(0)
            data = pts.astype("<u4", copy=False).tobytes()
            if key and lo == 0:
                firsts[key] = data[:2 * (G1_BYTES if group.group == "g1" else G2_BYTES)]
            w.write(data)
        mont.fill(0)

    tmp = path.with_name(path.name + ".tmp")
    try:
        tau, alpha, beta = secret
        # τ on a domain of size ≤ 2^(power+1) would divide by zero in the Lagrange basis (probability ~2^-222).
        while FR.value(_pow2k(tau, power + 1)) == 1:
            tau[:] = FR.element(secrets.randbelow(params.R - 1) + 1)
        one = FR.element(1)
        with open(tmp, "wb") as f:
            w = _Writer(f, 11)
            w.begin(1, 4 + 48 + 4 + 4)
            w.write(struct.pack("<I", 48) + params.P.to_bytes(48, "little") + struct.pack("<II", power, power))

            say(f"tauG1: {n_tau_g1} points")
            w.begin(2, n_tau_g1 * G1_BYTES)
            powers = _powers(one, tau, n_tau_g1)
            scratch.append(powers)
            tau_top = np.empty_like(tau)               # τ^(2n−1), for section 12's top domain
            fr.mul(tau_top, powers[-1], tau)
            scratch.append(tau_top)
            emit(w, g1, powers.copy(), "tauG1")

            say(f"tauG2: {n} points")
            w.begin(3, n * G2_BYTES)
            emit(w, g2, powers[:n].copy(), "tauG2")
            powers.fill(0)

            say(f"alphaTauG1, betaTauG1: {n} points each")
            w.begin(4, n * G1_BYTES)
            emit(w, g1, _powers(alpha, tau, n), "alphaG1")
            w.begin(5, n * G1_BYTES)
            emit(w, g1, _powers(beta, tau, n), "betaG1")
            w.begin(6, G2_BYTES)
            emit(w, g2, beta[None].copy(), "betaG2")

            w.begin(7, contrib_size)
            w.write(struct.pack("<I", 1))
            tau_g1 = firsts["tauG1"][G1_BYTES:]        # section 2 starts G1, τ·G1
            w.write(tau_g1)
            w.write(firsts["tauG2"][G2_BYTES:])
            w.write(firsts["alphaG1"][:G1_BYTES])
            w.write(firsts["betaG1"][:G1_BYTES])
            w.write(firsts["betaG2"])
            w.write(bytes(_PUBKEY_BYTES + 216 + 64))   # no transcript: key and hashes zero
            w.write(struct.pack("<II", 0, len(params_bytes)) + params_bytes)

            say(f"lagrange tauG1: {lag_g1} points")
            w.begin(12, lag_g1 * G1_BYTES)
            for p in range(power + 2):
                lg = _lagrange(tau, p)
                if p == power + 1:
                    _truncate_top(lg, tau_top, p)
                emit(w, g1, lg)
            say(f"lagrange tauG2: {lag} points")
            w.begin(13, lag * G2_BYTES)
            for p in range(power + 1):
                emit(w, g2, _lagrange(tau, p))
            for kind, factor, what in ((14, alpha, "alphaTauG1"), (15, beta, "betaTauG1")):
                say(f"lagrange {what}: {lag} points")
                w.begin(kind, lag * G1_BYTES)
                for p in range(power + 1):
                    lg = _lagrange(tau, p)
                    FR.mul_vec(lg, lg, np.ascontiguousarray(np.broadcast_to(factor, lg.shape)))
                    emit(w, g1, lg)
            assert w.left == 0
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        secret.fill(0)
        for arr in scratch:
            arr.fill(0)
    return {"power": power, "bytes": path.stat().st_size, "seconds": round(time.perf_counter() - start, 3),
            "label": name}


def _truncate_top(lg: np.ndarray, tau_top: np.ndarray, log_size: int) -> None:
    """lg[i] −= ω^i·τ^(N−1)/N in place (N = 2^log_size, tau_top = τ^(N−1)): the basis of the
    powers τ^0 .. τ^(N−2) with the last one zero, as snarkjs's prepare phase2 builds it."""
    size = 1 << log_size
    first = FR.element(pow(size, -1, params.R))
    fr.mul(first, first, tau_top)
    corr = _powers(first, FR.element(domain_root(size, SNARKJS_GENERATOR)), size)
    FR.sub_vec(lg, lg, corr)
    corr.fill(0)
    first.fill(0)


def read_ptau_header(path) -> dict:
    """{"power", "ceremony_power", "prepared", "contributions", "names"} of a BLS12-381 .ptau file.

    Raises InputError naming the file when it is not a ptau for BLS12-381 or is truncated.
    """
    f = read_binfile(path, b"ptau", 1)
    head = Reader(f.section(1), f"{path} header")
    n8 = head.u32()
    if n8 != 48 or head.bigint(n8) != params.P:
        raise InputError(f"{path}: powers of tau for another curve; expected bls12-381")
    power, ceremony_power = head.u32(), head.u32()
    contrib = Reader(f.section(7), f"{path} contributions")
    count = contrib.u32()
    names = []
    for _ in range(count):
        contrib.take(3 * G1_BYTES + 2 * G2_BYTES + _PUBKEY_BYTES + 216 + 64 + 4)
        body = Reader(contrib.take(contrib.u32()), f"{path} contribution parameters")
        name = None
        while body.pos < len(body.buf):
            kind, length = body.take(1)[0], body.take(1)[0]
            if kind == 2:                            # numIterationsExp: one value byte (read above)
                continue
            value = bytes(body.take(length))
            if kind == 1:
                name = value.decode(errors="replace")
        names.append(name)
    return {"power": power, "ceremony_power": ceremony_power, "prepared": all(k in f.sections for k in (12, 13, 14, 15)),
            "contributions": count, "names": names}


# --- multi-party files: contributions and sections as snarkjs writes them ---------------------------

from dataclasses import dataclass, field  # noqa: E402

from pipeline.snarkjs.binfile import write_binfile  # noqa: E402

_G1 = (2, 12)
_G2 = (2, 2, 12)


@dataclass
class PtauPubKey:
    """A contribution's proof-of-knowledge key: for τ, α, β the pair (s, s·x) in G1 and s'·x in G2."""

    g1_s: dict          # name ("tau", "alpha", "beta") -> (2, 12)
    g1_sx: dict
    g2_spx: dict        # name -> (2, 2, 12)

    NAMES = ("tau", "alpha", "beta")

    def lem(self) -> bytes:
        """Montgomery little-endian bytes as stored in section 7."""
        g1 = b"".join(np.ascontiguousarray(a, "<u4").tobytes() for n in self.NAMES for a in (self.g1_s[n], self.g1_sx[n]))
        return g1 + b"".join(np.ascontiguousarray(self.g2_spx[n], "<u4").tobytes() for n in self.NAMES)

    def uncompressed(self) -> bytes:
        """The bytes the response hash ends with (snarkjs `toPtauPubKeyRpr(..., false)`)."""
        from pipeline.ceremony.transcript import g1_uncompressed, g2_uncompressed
        g1 = b"".join(g1_uncompressed(a) for n in self.NAMES for a in (self.g1_s[n], self.g1_sx[n]))
        return g1 + b"".join(g2_uncompressed(self.g2_spx[n]) for n in self.NAMES)

    @classmethod
    def from_lem(cls, buf) -> PtauPubKey:
        arr = np.frombuffer(bytes(buf), "<u4")
        g1 = arr[:6 * 24].reshape(6, *_G1)
        g2 = arr[6 * 24:].reshape(3, *_G2)
        return cls({n: g1[2 * k] for k, n in enumerate(cls.NAMES)}, {n: g1[2 * k + 1] for k, n in enumerate(cls.NAMES)},
                   {n: g2[k] for k, n in enumerate(cls.NAMES)})


@dataclass
class PtauContribution:
    """One record of section 7."""

    tau_g1: np.ndarray
    tau_g2: np.ndarray
    alpha_g1: np.ndarray
    beta_g1: np.ndarray
    beta_g2: np.ndarray
    key: PtauPubKey
    partial_hash: bytes
    next_challenge: bytes
    type: int = 0                       # 0 contribution, 1 beacon
    name: str | None = None
    iterations_exp: int | None = None
    beacon_hash: bytes | None = None

    def params(self) -> bytes:
        return contribution_params(self.name, self.type == 1, self.iterations_exp, self.beacon_hash)

    def to_bytes(self) -> bytes:
        pts = b"".join(np.ascontiguousarray(p, "<u4").tobytes()
                       for p in (self.tau_g1, self.tau_g2, self.alpha_g1, self.beta_g1, self.beta_g2))
        params_bytes = self.params()
        return (pts + self.key.lem() + self.partial_hash + self.next_challenge
                + struct.pack("<II", self.type, len(params_bytes)) + params_bytes)

    def response_hash(self) -> bytes:
        """BLAKE2b of the contributor's response: the stored midstate finished with the public key."""
        from pipeline.ceremony.blake2b import Blake2b
        try:
            h = Blake2b.from_partial(self.partial_hash)
        except ValueError as exc:
            raise InputError(f"contribution {self.name!r}: {exc}") from None
        return h.update(self.key.uncompressed()).digest()


@dataclass
class Ptau:
    """A .ptau opened for a ceremony: header, point sections (read-only views) and contributions."""

    path: Path
    power: int
    ceremony_power: int
    sections: dict = field(default_factory=dict)        # kind -> array of points
    contributions: list = field(default_factory=list)

    @property
    def prepared(self) -> bool:
        return all(k in self.sections for k in (12, 13, 14, 15))


def _section_points(f, kind: int, count: int, g2: bool, path) -> np.ndarray:
    buf = f.section(kind)
    size = G2_BYTES if g2 else G1_BYTES
    if len(buf) != count * size:
        raise InputError(f"{path}: section {kind} holds {len(buf)} bytes, expected {count * size} "
                         f"({count} points); truncated or damaged")
    return np.frombuffer(buf, "<u4").reshape((count,) + (_G2 if g2 else _G1))


def read_ptau(path) -> Ptau:
    """Open a BLS12-381 .ptau: every section checked for its size, contributions parsed.

    Raises InputError naming the file for another curve, a truncated file, a malformed contribution
    record, or a section of the wrong size.
    """
    f = read_binfile(path, b"ptau", 1)
    head = Reader(f.section(1), f"{path} header")
    n8 = head.u32()
    if n8 != 48 or head.bigint(n8) != params.P:
        raise InputError(f"{path}: powers of tau for another curve; expected bls12-381 (bn128 files cannot be used)")
    power, ceremony_power = head.u32(), head.u32()
    if not 1 <= power <= MAX_POWER:
        raise InputError(f"{path}: header says power {power}, outside 1..{MAX_POWER}")
    n = 1 << power
    ptau = Ptau(Path(path), power, ceremony_power)
    for kind, count, g2 in ((2, 2 * n - 1, False), (3, n, True), (4, n, False), (5, n, False), (6, 1, True)):
        ptau.sections[kind] = _section_points(f, kind, count, g2, path)
    if 12 in f.sections:
        lag_g1, lag = (1 << (power + 2)) - 1, (1 << (power + 1)) - 1
        for kind, count, g2 in ((12, lag_g1, False), (13, lag, True), (14, lag, False), (15, lag, False)):
            ptau.sections[kind] = _section_points(f, kind, count, g2, path)
    contrib = Reader(f.section(7), f"{path} contributions")
    for k in range(contrib.u32()):
        where = f"{path} contribution {k + 1}"
        pts = [np.frombuffer(bytes(contrib.take(size)), "<u4").reshape(shape)
               for size, shape in ((G1_BYTES, _G1), (G2_BYTES, _G2), (G1_BYTES, _G1), (G1_BYTES, _G1), (G2_BYTES, _G2))]
        key = PtauPubKey.from_lem(contrib.take(_PUBKEY_BYTES))
        c = PtauContribution(*pts, key, bytes(contrib.take(216)), bytes(contrib.take(64)), contrib.u32())
        c.name, c.iterations_exp, c.beacon_hash = read_contribution_params(
            Reader(contrib.take(contrib.u32()), f"{where} parameters"), c.type == 1, where)
        ptau.contributions.append(c)
    if contrib.pos != len(contrib.buf):
        raise InputError(f"{path}: contributions section has {len(contrib.buf) - contrib.pos} stray bytes")
    return ptau


def write_ptau_sections(path, power: int, sections: dict, contributions: list, ceremony_power: int | None = None) -> None:
    """Write a .ptau with the given point sections (2–6, and 12–15 when present) and contributions."""
    header = struct.pack("<I", 48) + params.P.to_bytes(48, "little") + struct.pack(
        "<II", power, power if ceremony_power is None else ceremony_power)
    out = [(1, [header])]
    for kind in (2, 3, 4, 5, 6):
        out.append((kind, [np.ascontiguousarray(sections[kind], "<u4")]))
    out.append((7, [struct.pack("<I", len(contributions))] + [c.to_bytes() for c in contributions]))
    for kind in (12, 13, 14, 15):
        if kind in sections:
            out.append((kind, [np.ascontiguousarray(sections[kind], "<u4")]))
    write_binfile(path, b"ptau", 1, out)
