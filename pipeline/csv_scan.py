"""The compiled CSV row scan of `notarize`: quote-aware, 64 bytes a step, one piece at a time.

What a piece scan finds. `scan_piece` reads one piece of a CSV (bytes a[0:n], with up to three
bytes of the file after it in a[n:end], and `prev`, the byte before it) and summarises it in a row
of int64 fields (below): the record cut by its start (delimiters and length up to its first record
break), the complete records in it (counted; each one's delimiters checked against the header's),
the record cut by its end, the first error (a ragged record, a misplaced quote, invalid UTF-8),
the physical lines, and whether the piece ends inside a quoted field. `notarize` stitches the
summaries in file order (`_Stitch`), so memory is one buffer per thread whatever the file.

Quotes by prefix XOR (as simdjson and simdcsv do). Each 64-byte block becomes bit masks (one bit
a byte) of quotes, delimiters, "\\n", "\\r" and bytes >= 0x80, by a 64-lane compare (an LLVM
intrinsic below: vpcmpeqb and vpmovmskb on AVX2). The XOR of the quote mask's prefixes (six
shift-XORs) gives "inside a quoted field" for every byte; XOR-ing the carry (all ones when the
block starts inside a quote) continues the state from the block before. A delimiter or a line
break counts only outside quotes; so an escaped `""` (one quote closing, the next reopening) and
a newline inside quotes need nothing special. Record breaks are "\\n" and "\\r" outside quotes,
and empty records are skipped (as pyarrow and pandas skip blank lines): so "\\r\\n" is one break
followed by an empty record, and a lone "\\r" (old Mac files) ends a line too. Physical line
numbers (for messages) count "\\n" and a "\\r" not followed by "\\n", inside quotes or not.

The quoting is RFC 4180, checked: a quote that opens a field must follow a delimiter, a line
break, another quote (an escaped `""`) or the start of the file, and a closing quote must be
followed by one of those or the end of the file. Both checks are masks too (the separators
shifted by one byte); what needs the byte after a block (after a closing quote, the "\n" of a
"\r\n") is carried into the next block as one bit, and into the next piece through its `prev`
byte, so the scan never looks past its piece. pyarrow and pandas read `a"b` or `"a"b` with a
quote taken literally; such a file is refused here with its line and column, because a lenient
reading makes the parity of quotes (and so every later row) depend on the reader.

The in-quote state across pieces and threads. A piece's summary depends on whether it starts
inside a quoted field, which only the text before it decides. Within one thread's unit (whole
Merkle leaves, read piece by piece), the state carries from piece to piece. At a unit's start
the thread does not know it, so it scans under both hypotheses (starting outside, starting
inside) and keeps both summaries; the stitch, which knows the true state at the end of the
previous unit, takes the matching one. This rarely costs a second scan: a hypothesis is dropped
at its first error (in real files the wrong one meets a misplaced quote at the first quoted
field: `"k, 17"` read from inside gives a closing quote followed by `k`), and "inside" over a
piece with no quote at all needs no scan (nothing is outside a quote there). A file whose wrong
hypothesis never fails (quotes only around whole rows, say) pays up to twice the scan cost, not
a wrong answer. A decompressed stream is read by one thread in order and always knows its state.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from kernels.cache import configure_numba_cache

configure_numba_cache()  # before the decorators below: the cache folder is fixed at creation

# The fields of a summary row (one per hypothesis: row 0 starts outside quotes, row 1 inside).
(BRK, HEAD_D, HEAD_LEN, ROWS, TAIL_D, TAIL_LEN, TAIL_LINE, ERR, ERR_POS, ERR_D, ERR_START, ERR_LINE,
 END_Q, OPEN_LINE, STOP, LINES, SKIP, OVER, TRUNC, LIVE, NFIELDS) = range(21)
ERR_NONE, ERR_RAGGED, ERR_QUOTE, ERR_UTF8 = 0, 1, 2, 3
PAD = 128  # bytes a buffer needs past the piece and its 3 look-ahead bytes (64-byte loads)

_U0, _U1, _ALL = np.uint64(0), np.uint64(1), np.uint64(0xFFFFFFFFFFFFFFFF)
_S1, _S2, _S4, _S8, _S16, _S32, _S63 = (np.uint64(s) for s in (1, 2, 4, 8, 16, 32, 63))


def _splat(builder, value, lanes=64):
    vty = ir.VectorType(ir.IntType(8), lanes)
    v = builder.insert_element(ir.Constant(vty, ir.Undefined), value, ir.Constant(ir.IntType(32), 0))
    return builder.shuffle_vector(v, ir.Constant(vty, ir.Undefined),
                                  ir.Constant(ir.VectorType(ir.IntType(32), lanes), [0] * lanes))


@intrinsic
def _classify(typingctx, arr, offset, delim):
    """(quote, delimiter, "\\n", "\\r", >= 0x80) bit masks of the 64 bytes arr[offset:offset + 64]."""
    ret = types.UniTuple(types.uint64, 5)
    sig = ret(arr, offset, delim)

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        vty = ir.VectorType(ir.IntType(8), 64)
        ptr = builder.bitcast(builder.gep(data, [args[1]]), vty.as_pointer())
        v = builder.load(ptr, align=1)
        i8 = ir.IntType(8)
        masks = []
        for byte in (ir.Constant(i8, 34), builder.trunc(args[2], i8), ir.Constant(i8, 10), ir.Constant(i8, 13)):
            masks.append(builder.bitcast(builder.icmp_unsigned("==", v, _splat(builder, byte)), ir.IntType(64)))
        high = builder.icmp_signed("<", v, ir.Constant(vty, [0] * 64))
        masks.append(builder.bitcast(high, ir.IntType(64)))
        return context.make_tuple(builder, ret, masks)

    return sig, codegen


@intrinsic
def _high_bytes(typingctx, arr, offset):
    """Bit mask of the bytes >= 0x80 among arr[offset:offset + 64]."""
    sig = types.uint64(arr, offset)

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        vty = ir.VectorType(ir.IntType(8), 64)
        v = builder.load(builder.bitcast(builder.gep(data, [args[1]]), vty.as_pointer()), align=1)
        return builder.bitcast(builder.icmp_signed("<", v, ir.Constant(vty, [0] * 64)), ir.IntType(64))

    return sig, codegen


@intrinsic
def _popcount(typingctx, x):
    sig = types.int64(types.uint64)

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])

    return sig, codegen


@intrinsic
def _ctz(typingctx, x):
    sig = types.int64(types.uint64)

    def codegen(context, builder, signature, args):
        return builder.cttz(args[0], ir.Constant(ir.IntType(1), 0))

    return sig, codegen


@intrinsic
def _clz(typingctx, x):
    sig = types.int64(types.uint64)

    def codegen(context, builder, signature, args):
        return builder.ctlz(args[0], ir.Constant(ir.IntType(1), 0))

    return sig, codegen


@njit(cache=True, nogil=True, inline="always")
def _below(j):
    """Bits 0 .. j-1 (j in 0..64)."""
    return _ALL if j >= 64 else (_U1 << np.uint64(j)) - _U1


@njit(cache=True, nogil=True, inline="always")
def _is_sep(c, delim):
    return c == 34 or c == 10 or c == 13 or c == delim


@njit(cache=True, nogil=True)
def count_lines(a, s, e, prev):
    """Physical lines ended in a[s:e]: each "\\n" and each "\\r", less one for each "\\n" right
    after a "\\r" (`prev` is the byte before a[0]). Additive: a "\\r\\n" cut by s or e counts once."""
    before = a[s - 1] if s > 0 else prev
    cr_carry = _U1 if before == 13 else _U0
    lines = 0
    i = s
    while i < e:
        _, _, lf, cr, _ = _classify(a, i, np.int64(0))
        if e - i < 64:
            m = _below(e - i)
            lf &= m
            cr &= m
        lines += _popcount(lf | cr) - _popcount(lf & ((cr << _S1) | cr_carry))
        cr_carry = cr >> _S63
        i += 64
    return lines


@njit(cache=True, nogil=True)
def utf8_check(a, n, end, eof, o):
    """Check the UTF-8 sequences that start in a[0:n] (continuing up to a[end - 1]) as Python's
    decoder does; returns the start of the first invalid one (or -1). o[SKIP]: the continuation
    bytes the piece starts with (a previous piece's); o[OVER]: the bytes past n of its last
    sequence; o[TRUNC]: 1 when the data ends (eof) inside a sequence."""
    i = 0
    while i < n and i < 4 and (a[i] & 0xC0) == 0x80:
        i += 1
    o[SKIP] = i
    bad, trunc = -1, 0
    while i < n:
        h = _high_bytes(a, i) & _below(n - i)
        if h == _U0:
            i = min(i + 64, n)
            continue
        i += _ctz(h)
        c = a[i]
        lo, hi = 0x80, 0xBF  # the range of the second byte
        if 0xC2 <= c <= 0xDF:
            need = 1
        elif 0xE0 <= c <= 0xEF:
            need = 2
            if c == 0xE0:
                lo = 0xA0
            elif c == 0xED:
                hi = 0x9F
        elif 0xF0 <= c <= 0xF4:
            need = 3
            if c == 0xF0:
                lo = 0x90
            elif c == 0xF4:
                hi = 0x8F
        else:
            bad = i
            break
        j = 1
        while j <= need and i + j < end:
            b = a[i + j]
            if b < lo or b > hi:
                break
            lo, hi = 0x80, 0xBF
            j += 1
        if j <= need:
            if i + j >= end and eof:
                trunc = 1  # what there is of the sequence is right: the data ends inside it
            else:
                bad = i
            break
        i += need + 1
    o[TRUNC] = trunc
    o[OVER] = max(0, i - n) if bad < 0 and not trunc else 0
    return bad


@njit(cache=True, nogil=True)
def records(a, lim, prev, q0, delim, k, o):
    """Scan a[0:lim] for records, starting inside a quoted field when q0 is 1 (`prev`: the byte
    before a[0]); stop at the first ragged record or misplaced quote. Fills the record fields of
    the summary row o. Nothing past a[lim - 1] is looked at: a check that needs the next byte
    (after a closing quote; "\\r\\n") is carried into the next block, and into the next piece
    through its `prev`."""
    carry = _U0 - np.uint64(q0)  # all ones while inside quotes
    prev_sep = _U1 if _is_sep(prev, delim) else _U0
    close_carry = _U1 if prev == 34 and q0 == 0 else _U0  # the byte before closed a quoted field
    cr_carry = _U1 if prev == 13 else _U0
    prev_brk = _U0               # the block before ended with a record break
    d = 0                        # delimiters of the current record so far
    nb = rows = 0                # breaks; non-empty records after the first break
    last_brk = -1                # the last break so far
    head_d = head_len = 0
    err = ERR_NONE
    err_pos = -1
    err_d = 0
    lines = 0
    open_at, open_mask = -1, _U0
    stop = lim
    brk = _U0
    i = 0
    while i < lim:
        q, dl, lf, cr, _ = _classify(a, i, delim)
        if lim - i < 64:  # the last block: the bytes past the piece are not its own
            valid = _below(lim - i)
            q &= valid
            dl &= valid
            lf &= valid
            cr &= valid
        sep = q | dl | lf | cr
        p = q ^ (q << _S1)
        p ^= p << _S2
        p ^= p << _S4
        p ^= p << _S8
        p ^= p << _S16
        p ^= p << _S32
        inside = p ^ carry            # a quote that opens is inside, one that closes is not
        carry = _U0 - (inside >> _S63)
        opening = q & inside
        closing = q & ~inside
        # an opening quote follows a separator; the byte after a closing quote is one
        bad = (opening & ~((sep << _S1) | prev_sep)) | (((closing << _S1) | close_carry) & ~sep)
        if lim - i < 64:
            bad &= _below(lim - i)
        prev_sep, close_carry = sep >> _S63, closing >> _S63
        ends = lf | cr
        crlf = _U0
        if (cr | cr_carry) != _U0:  # (LF-only files skip this)
            crlf = lf & ((cr << _S1) | cr_carry)
            cr_carry = cr >> _S63
        brk = ends & ~inside
        dm = dl & ~inside
        if bad != _U0:
            keep = _below(_ctz(bad))
            ends &= keep
            crlf &= keep
            brk &= keep
            dm &= keep
        lines += _popcount(ends) - _popcount(crlf)
        if brk != _U0:
            # a break right after a break ends an empty record (a blank line): not a row, not checked
            full = brk & ~((brk << _S1) | prev_brk)
            if nb == 0:  # the first break ends the record the piece starts in: the stitch judges it
                upto = brk ^ (brk - _U1)
                head_d, head_len = d + _popcount(dm & (upto >> _S1)), i + _ctz(brk)
                d = 0
                dm &= ~upto
                full &= ~upto
            nb += _popcount(brk)
            rows += _popcount(full)
            while full != _U0:
                upto = full ^ (full - _U1)
                dd = d + _popcount(dm & (upto >> _S1))
                if dd != k:
                    err, err_pos, err_d = ERR_RAGGED, i + _ctz(full), dd
                    break
                d = 0
                dm &= ~upto
                full &= full - _U1
            if err != ERR_NONE:
                stop = err_pos
                break
            last_brk = i + 63 - _clz(brk)
        prev_brk = brk >> _S63
        d += _popcount(dm)
        if bad != _U0:
            err, err_pos = ERR_QUOTE, i + _ctz(bad)
            err_d, stop = d, err_pos
            o[ERR_LINE] = lines
            break
        if opening != _U0:
            open_at, open_mask = i, opening
        i += 64
    rec_start = last_brk + 1
    if nb == 0:
        head_d, head_len = d, stop
    o[BRK], o[HEAD_D], o[HEAD_LEN], o[ROWS] = nb, head_d, head_len, rows
    o[TAIL_D], o[TAIL_LEN] = d, stop - rec_start
    o[ERR], o[ERR_POS], o[ERR_D], o[STOP] = err, err_pos, err_d, stop
    o[END_Q] = np.int64(carry & _U1)
    o[OPEN_LINE] = -1
    if err == ERR_RAGGED:  # the ragged record starts after the break before it
        before = brk & _below(err_pos - i)
        start = i + 64 - _clz(before) if before != _U0 else rec_start
        o[ERR_START] = start
        o[ERR_LINE] = count_lines(a, 0, start, prev)
    elif err == ERR_NONE:
        o[LINES] = lines
        o[TAIL_LINE] = lines - count_lines(a, rec_start, lim, prev) if nb else -1
        if o[END_Q] == 1 and open_at >= 0:
            last_open = open_at + 63 - _clz(open_mask)
            o[OPEN_LINE] = lines - count_lines(a, last_open, lim, prev)


@njit(cache=True, nogil=True)
def _inside_all(lim, n, o):
    """The summary of a piece without quotes read from inside a quoted field: nothing is outside."""
    o[BRK], o[HEAD_D], o[HEAD_LEN], o[ROWS], o[TAIL_D], o[TAIL_LEN] = 0, 0, lim, 0, 0, lim
    o[ERR], o[ERR_POS], o[ERR_D], o[ERR_START], o[STOP] = ERR_NONE, -1, 0, -1, lim
    o[END_Q], o[OPEN_LINE], o[TAIL_LINE] = 1, -1, -1


@njit(cache=True, nogil=True)
def scan_piece(a, n, end, eof, prev, live0, live1, has_quote, delim, k, out):
    """Summaries of the piece a[0:n] under the live hypotheses (out[0]: it starts outside quotes,
    out[1]: inside); out[h, LIVE] is 1 for each one scanned. `k`: the header's delimiters."""
    o = out[0]
    bad = utf8_check(a, n, end, eof, o)
    lim = bad if bad >= 0 else n
    lines = -1
    for h in range(2):
        oh = out[h]
        oh[LIVE] = 0
        if (h == 0 and not live0) or (h == 1 and not live1):
            continue
        oh[LIVE] = 1
        if h == 1:
            oh[SKIP], oh[OVER], oh[TRUNC] = o[SKIP], o[OVER], o[TRUNC]
        if h == 1 and not has_quote:
            _inside_all(lim, n, oh)
        else:
            records(a, lim, prev, h, delim, k, oh)
            if oh[ERR] == ERR_NONE:
                lines = oh[LINES]
        if oh[ERR] == ERR_NONE and bad >= 0:
            oh[ERR], oh[ERR_POS] = ERR_UTF8, bad
            oh[ERR_LINE] = count_lines(a, 0, bad, prev)
    if bad < 0:
        if lines < 0:
            lines = count_lines(a, 0, n, prev)
        out[0, LINES] = out[1, LINES] = lines
