"""Point encodings of the zkcrypto / blst / arkworks family (the one Ethereum and Zcash use).

Compressed: G1 48 bytes = x; G2 96 bytes = x.c1 || x.c0; big-endian. Uncompressed: G1 96 bytes
= x || y; G2 192 bytes = x.c1 || x.c0 || y.c1 || y.c0. The top three bits of byte 0 are flags:
0x80 compression, 0x40 infinity (then every other bit is zero), 0x20 sort (compressed only: y is
the lexicographically largest root, y > (p-1)/2; for G2 compare y.c1, or y.c0 when y.c1 = 0).
Decoding rejects a wrong length, wrong flags, non-canonical coordinates (>= p), points off the
curve and points outside the prime-order subgroup, with an EncodingError naming the reason (and
the index, for the batch forms). The batch forms are parallel over points.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from kernels import params
from kernels.cache import cached_njit
from kernels.ec.g1 import g1
from kernels.ec.g2 import B_MONT as _B2, g2
from kernels.ec.points import G1_SHAPE, G2_SHAPE, _g1b, _g2b, _points
from kernels.ec.sqrt import S_SQRT, fq2_sqrt, fq_sqrt
from kernels.errors import EncodingError
from kernels.ff.fields import FQ, fq, fq2
from kernels.ff.montgomery import int_to_limbs

FQ_BYTES = 48
G1_COMPRESSED, G1_UNCOMPRESSED = 48, 96
G2_COMPRESSED, G2_UNCOMPRESSED = 96, 192

COMPRESSION, INFINITY, SORT = 0x80, 0x40, 0x20

_REASONS = {
    1: "the compression flag does not match the encoding's length",
    2: "a point at infinity must have no other bit set",
    3: "a coordinate is not canonical (>= p)",
    4: "the coordinates are not a point of the curve",
    5: "the point is not in the prime-order subgroup",
    6: "the sort flag is set in an uncompressed encoding",
}

_P_LIMBS = int_to_limbs(params.P, 12)
_HALF_LIMBS = int_to_limbs((params.P - 1) // 2, 12)

f_to_mont, f_from_mont, f_is_zero, f_neg, f_mul, f_add, f_copy = (fq.to_mont, fq.from_mont, fq.is_zero, fq.neg,
                                                                   fq.mul, fq.add, fq.copy)
g1_on_curve, g2_on_curve = g1.aff_on_curve, g2.aff_on_curve
g1_in_subgroup, g2_in_subgroup = _g1b.in_subgroup, _g2b.in_subgroup
g1_temporaries, g2_temporaries = _g1b.temporaries, _g2b.temporaries
_B1 = FQ.element(params.B1)


@cached_njit(nogil=True)
def _greater(a, b):
    # a > b for plain little-endian limbs.
    for i in range(11, -1, -1):
        if a[i] != b[i]:
            return a[i] > b[i]
    return False


@cached_njit(nogil=True)
def _read_fq(row, offset, out):
    # Big-endian 48 bytes at row[offset:] into plain limbs; flag bits of byte 0 are masked off.
    # Returns False when the value is >= p.
    for i in range(12):
        base = offset + FQ_BYTES - 4 * (i + 1)
        b0 = np.uint32(row[base])
        if i == 11 and offset == 0:
            b0 &= np.uint32(0x1F)
        out[i] = (b0 << np.uint32(24)) | (np.uint32(row[base + 1]) << np.uint32(16)) \
            | (np.uint32(row[base + 2]) << np.uint32(8)) | np.uint32(row[base + 3])
    return _greater(_P_LIMBS, out)


@cached_njit(nogil=True)
def _write_fq(row, offset, plain):
    for i in range(12):
        base = offset + FQ_BYTES - 4 * (i + 1)
        v = plain[i]
        row[base] = np.uint8(v >> np.uint32(24))
        row[base + 1] = np.uint8((v >> np.uint32(16)) & np.uint32(0xFF))
        row[base + 2] = np.uint8((v >> np.uint32(8)) & np.uint32(0xFF))
        row[base + 3] = np.uint8(v & np.uint32(0xFF))


@cached_njit(nogil=True)
def _flags_and_body(row):
    flags = row[0] >> np.uint8(5)
    body_zero = (row[0] & np.uint8(0x1F)) == 0
    for i in range(1, row.shape[0]):
        if row[i] != 0:
            body_zero = False
    return flags, body_zero


@cached_njit(nogil=True)
def _largest(a_mont, tmp):
    f_from_mont(tmp, a_mont)
    return _greater(tmp, _HALF_LIMBS)


@cached_njit(nogil=True)
def _check_infinity(flags, body_zero, compressed):
    # 0 when not infinity, -1 when a valid infinity, else an error code.
    if (flags & 4 != 0) != compressed:
        return 1
    if flags & 2 == 0:
        if not compressed and flags & 1 != 0:
            return 6
        return 0
    if flags & 1 != 0 or not body_zero:
        return 2
    return -1


@cached_njit(parallel=True, nogil=True)
def _g1_decode(raw, compressed, out, codes):
    for k in prange(raw.shape[0]):
        row = raw[k]
        s = np.empty((S_SQRT, 12), np.uint32)
        t, s4 = g1_temporaries()
        out[k, 0, :] = 0
        out[k, 1, :] = 0
        flags, body_zero = _flags_and_body(row)
        code = _check_infinity(flags, body_zero, compressed)
        if code != 0:
            codes[k] = max(code, 0)
            continue
        if not _read_fq(row, 0, s[0]) or (not compressed and not _read_fq(row, FQ_BYTES, s[1])):
            codes[k] = 3
            continue
        f_to_mont(out[k, 0], s[0])
        if compressed:
            f_mul(s[2], out[k, 0], out[k, 0])
            f_mul(s[2], s[2], out[k, 0])
            f_add(s[2], s[2], _B1)
            if not fq_sqrt(out[k, 1], s[2], s[3:]):
                codes[k] = 4
                continue
            if _largest(out[k, 1], s[2]) != (flags & 1 != 0):
                f_neg(out[k, 1], out[k, 1])
        else:
            f_to_mont(out[k, 1], s[1])
            if not g1_on_curve(out[k], t, s4):
                codes[k] = 4
                continue
        codes[k] = 0 if g1_in_subgroup(out[k]) else 5


def _compile_x3_plus_b():
    c_mul, c_sqr, c_add = fq2.mul, fq2.sqr, fq2.add
    b = _B2

    @cached_njit(nogil=True)
    def x3_plus_b(out, x, t, s):
        c_sqr(t[1], x, s)
        c_mul(t[1], t[1], x, s)
        c_add(out, t[1], b)

    return x3_plus_b


g2_x3_plus_b = _compile_x3_plus_b()


@cached_njit(parallel=True, nogil=True)
def _g2_decode(raw, compressed, out, codes):
    for k in prange(raw.shape[0]):
        row = raw[k]
        s = np.empty((S_SQRT, 12), np.uint32)
        y2 = np.empty((2, 12), np.uint32)
        t, s4 = g2_temporaries()
        out[k] = 0
        flags, body_zero = _flags_and_body(row)
        code = _check_infinity(flags, body_zero, compressed)
        if code != 0:
            codes[k] = max(code, 0)
            continue
        # Byte order c1 then c0 for each coordinate.
        ok = _read_fq(row, 0, out[k, 0, 1]) and _read_fq(row, FQ_BYTES, out[k, 0, 0])
        if not compressed:
            ok = ok and _read_fq(row, 2 * FQ_BYTES, out[k, 1, 1]) and _read_fq(row, 3 * FQ_BYTES, out[k, 1, 0])
        if not ok:
            out[k] = 0
            codes[k] = 3
            continue
        for c in range(2 if compressed else 4):
            f_to_mont(out[k, c // 2, c % 2], out[k, c // 2, c % 2])
        if compressed:
            # y^2 = x^3 + 4(1 + i)
            y2[0, :] = 0
            y2[1, :] = 0
            g2_x3_plus_b(y2, out[k, 0], t, s4)
            if not fq2_sqrt(out[k, 1], y2, s):
                codes[k] = 4
                continue
            if f_is_zero(out[k, 1, 1]):
                largest = _largest(out[k, 1, 0], s[0])
            else:
                largest = _largest(out[k, 1, 1], s[0])
            if largest != (flags & 1 != 0):
                f_neg(out[k, 1, 0], out[k, 1, 0])
                f_neg(out[k, 1, 1], out[k, 1, 1])
        elif not g2_on_curve(out[k], t, s4):
            codes[k] = 4
            continue
        codes[k] = 0 if g2_in_subgroup(out[k]) else 5




@cached_njit(parallel=True, nogil=True)
def _g1_encode(points, compressed, raw):
    for k in prange(points.shape[0]):
        row = raw[k]
        row[:] = 0
        if f_is_zero(points[k, 0]) and f_is_zero(points[k, 1]):
            row[0] = np.uint8(INFINITY | (COMPRESSION if compressed else 0))
            continue
        tmp = np.empty(12, np.uint32)
        f_from_mont(tmp, points[k, 0])
        _write_fq(row, 0, tmp)
        if compressed:
            flag = COMPRESSION | (SORT if _largest(points[k, 1], tmp) else 0)
        else:
            f_from_mont(tmp, points[k, 1])
            _write_fq(row, FQ_BYTES, tmp)
            flag = 0
        row[0] |= np.uint8(flag)


@cached_njit(parallel=True, nogil=True)
def _g2_encode(points, compressed, raw):
    for k in prange(points.shape[0]):
        row = raw[k]
        row[:] = 0
        pt = points[k]
        if f_is_zero(pt[0, 0]) and f_is_zero(pt[0, 1]) and f_is_zero(pt[1, 0]) and f_is_zero(pt[1, 1]):
            row[0] = np.uint8(INFINITY | (COMPRESSION if compressed else 0))
            continue
        tmp = np.empty(12, np.uint32)
        for c in range(2 if compressed else 4):
            # c1 before c0 within each coordinate
            f_from_mont(tmp, pt[c // 2, 1 - c % 2])
            _write_fq(row, c * FQ_BYTES, tmp)
        flag = 0
        if compressed:
            y_sign = pt[1, 0] if f_is_zero(pt[1, 1]) else pt[1, 1]
            flag = COMPRESSION | (SORT if _largest(y_sign, tmp) else 0)
        row[0] |= np.uint8(flag)


# --- Python API ------------------------------------------------------------------------------------
def _encode(encoder, arr, shape, width, compressed, group) -> bytes:
    pts = _points(arr, shape, f"{group} points")
    raw = np.empty((pts.shape[0], width), np.uint8)
    encoder(pts, compressed, raw)
    return raw.tobytes()


def _decode(decoder, data, m, shape, width, compressed, group, one) -> np.ndarray:
    data = bytes(data)
    if m is None:
        if len(data) != width:
            raise EncodingError(f"a {group} {'compressed' if compressed else 'uncompressed'} point is "
                                f"{width} bytes, got {len(data)}")
        m = 1
    elif len(data) != m * width:
        raise EncodingError(f"{m} {group} points take {m * width} bytes, got {len(data)}")
    raw = np.frombuffer(data, np.uint8).reshape(m, width)
    out = np.empty((m,) + shape, np.uint32)
    codes = np.empty(m, np.int8)
    decoder(raw, compressed, out, codes)
    bad = np.flatnonzero(codes)
    if bad.size:
        k = int(bad[0])
        where = f"{group} point" if one else f"{group} point {k} (of {m}; {bad.size} invalid)"
        raise EncodingError(f"invalid {where}: {_REASONS[int(codes[k])]}")
    return out[0] if one else out


def g1_compress(point: np.ndarray) -> bytes:
    """48-byte compressed encoding of one affine G1 point (2, 12). The point is not checked."""
    return _encode(_g1_encode, point, G1_SHAPE, G1_COMPRESSED, True, "G1")


def g1_compress_many(points: np.ndarray) -> bytes:
    """Concatenated 48-byte encodings of an (m, 2, 12) array."""
    return _encode(_g1_encode, points, G1_SHAPE, G1_COMPRESSED, True, "G1")


def g1_decompress(data: bytes) -> np.ndarray:
    """The (2, 12) point of a 48-byte compressed encoding; raises EncodingError (see module doc)."""
    return _decode(_g1_decode, data, None, G1_SHAPE, G1_COMPRESSED, True, "G1", True)


def g1_decompress_many(data: bytes, m: int) -> np.ndarray:
    """(m, 2, 12) points of m concatenated 48-byte encodings; EncodingError names the first bad index."""
    return _decode(_g1_decode, data, m, G1_SHAPE, G1_COMPRESSED, True, "G1", False)


def g1_to_bytes_uncompressed(points: np.ndarray) -> bytes:
    """96-byte uncompressed encodings (x || y) of one point or an (m, 2, 12) array, concatenated."""
    return _encode(_g1_encode, points, G1_SHAPE, G1_UNCOMPRESSED, False, "G1")


def g1_from_bytes_uncompressed(data: bytes, m: int | None = None) -> np.ndarray:
    """One (2, 12) point (m=None) or (m, 2, 12) points of 96-byte uncompressed encodings; checked."""
    return _decode(_g1_decode, data, m, G1_SHAPE, G1_UNCOMPRESSED, False, "G1", m is None)


def g2_compress(point: np.ndarray) -> bytes:
    """96-byte compressed encoding of one affine G2 point (2, 2, 12). The point is not checked."""
    return _encode(_g2_encode, point, G2_SHAPE, G2_COMPRESSED, True, "G2")


def g2_compress_many(points: np.ndarray) -> bytes:
    """Concatenated 96-byte encodings of an (m, 2, 2, 12) array."""
    return _encode(_g2_encode, points, G2_SHAPE, G2_COMPRESSED, True, "G2")


def g2_decompress(data: bytes) -> np.ndarray:
    """The (2, 2, 12) point of a 96-byte compressed encoding; raises EncodingError (see module doc)."""
    return _decode(_g2_decode, data, None, G2_SHAPE, G2_COMPRESSED, True, "G2", True)


def g2_decompress_many(data: bytes, m: int) -> np.ndarray:
    """(m, 2, 2, 12) points of m concatenated 96-byte encodings; EncodingError names the first bad index."""
    return _decode(_g2_decode, data, m, G2_SHAPE, G2_COMPRESSED, True, "G2", False)


def g2_to_bytes_uncompressed(points: np.ndarray) -> bytes:
    """192-byte uncompressed encodings (x.c1 || x.c0 || y.c1 || y.c0), concatenated."""
    return _encode(_g2_encode, points, G2_SHAPE, G2_UNCOMPRESSED, False, "G2")


def g2_from_bytes_uncompressed(data: bytes, m: int | None = None) -> np.ndarray:
    """One (2, 2, 12) point (m=None) or (m, 2, 2, 12) points of 192-byte uncompressed encodings; checked."""
    return _decode(_g2_decode, data, m, G2_SHAPE, G2_UNCOMPRESSED, False, "G2", m is None)
