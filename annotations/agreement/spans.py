"""Span agreement between annotators: exact-match F1 and token-overlap F1.

Tokens: runs of word characters (letters, digits, combining marks, ``_``); every other
non-space character (punctuation, symbols) is a token of its own; whitespace separates. An
Arabic word that starts with a proclitic و ف ب ل has it split off as its own token when at
least two letters follow, and after و/ف a second proclitic ب/ل likewise (وبالتالي → و ب
التالي). A span covers the tokens it overlaps, so a span that includes or leaves out a
proclitic differs by one token, not by a whole word.

Scores pool every pair of annotators who both labelled an item (each unordered pair once):

* ``exact_f1 = 2·Σ[A = B, both non-empty] / Σ([A non-empty] + [B non-empty])``
* ``token_f1 = 2·Σ|tok(A) ∩ tok(B)| / Σ(|tok(A)| + |tok(B)|)``

— corpus-level F1 with either annotator as reference (F1 is symmetric). Empty spans (no
span marked: ``None`` in a labelled record, ``[]``, or a zero-length span) add nothing to
numerator or denominator, so two annotators who both mark nothing neither help nor hurt;
one empty against one span counts as a miss. ``presence_agreement`` is the share of pairs
that agree on whether there is a span at all. With no text for an item, characters stand
in for tokens (``token_basis`` says which was used).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from ._util import slot_layout

PROCLITICS = frozenset("وفبل")
_CONJ = frozenset("وف")
_PREP = frozenset("بل")
_SPACE, _WORD, _OTHER = 0, 1, 2


def _char_class(ch: str) -> int:
    if ch.isspace():
        return _SPACE
    if ch.isalnum() or ch == "_" or unicodedata.category(ch)[0] == "M":
        return _WORD
    return _OTHER


@cache
def _class_table() -> np.ndarray:
    return np.fromiter((_char_class(chr(i)) for i in range(0x10000)), dtype=np.uint8, count=0x10000)


def tokenize(text: str) -> list[tuple[int, int]]:
    """Token offsets ``(start, end)`` of ``text`` (the reference implementation)."""
    out: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        cls = _char_class(text[i])
        if cls == _SPACE:
            i += 1
            continue
        if cls == _OTHER:
            out.append((i, i + 1))
            i += 1
            continue
        j = i
        while j < n and _char_class(text[j]) == _WORD:
            j += 1
        s = i
        if text[s] in PROCLITICS and j - s >= 3:
            out.append((s, s + 1))
            s += 1
            if text[s - 1] in _CONJ and text[s] in _PREP and j - s >= 3:
                out.append((s, s + 1))
                s += 1
        out.append((s, j))
        i = j
    return out


def _token_starts(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised tokenizer: (token-start flags, non-space flags) per character."""
    cp = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    table = _class_table()
    if cp.size and int(cp.max()) < 0x10000:
        cls = table[cp]
    else:
        cls = np.full(cp.shape, _OTHER, dtype=np.uint8)
        bmp = cp < 0x10000
        cls[bmp] = table[cp[bmp]]
        for pos in np.flatnonzero(~bmp):
            cls[pos] = _char_class(chr(int(cp[pos])))
    word = cls == _WORD
    run_start = word.copy()
    run_start[1:] &= ~word[:-1]
    starts = (cls == _OTHER) | run_start
    if word.any():
        last_char = word.copy()
        last_char[:-1] &= ~word[1:]
        run_end = np.flatnonzero(last_char)  # last index of each run
        rs = np.flatnonzero(run_start)
        length = run_end - rs + 1
        clit = np.isin(cp[rs], [ord(c) for c in PROCLITICS])
        first = rs[clit & (length >= 3)]
        starts[first + 1] = True
        conj = np.isin(cp[first], [ord(c) for c in _CONJ])
        nxt = first + 1
        prep = np.isin(cp[nxt], [ord(c) for c in _PREP])
        len_after = run_end[np.searchsorted(rs, first)] - nxt + 1
        second = nxt[conj & prep & (len_after >= 3)]
        starts[second + 1] = True
    return starts, cls != _SPACE


@dataclass(frozen=True)
class SpanAgreement:
    exact_f1: float | None
    token_f1: float | None
    pairs: int  # annotator pairs on the same item
    pairs_with_span: int  # … where at least one marked a span
    presence_agreement: float | None
    token_basis: str  # "tokens", "characters" or "mixed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "exact_f1": self.exact_f1,
            "token_f1": self.token_f1,
            "pairs": self.pairs,
            "pairs_with_span": self.pairs_with_span,
            "presence_agreement": self.presence_agreement,
            "token_basis": self.token_basis,
        }


EMPTY = (0, 0)


def parse_span(value: Any) -> tuple[int, int] | None:
    """``[start, end]`` → (start, end); empty → (0, 0); unusable → None."""
    if value is None or value == [] or value == () or value == "":
        return EMPTY
    if isinstance(value, Mapping):
        value = (value.get("start"), value.get("end"))
    if isinstance(value, (list, tuple)) and len(value) == 1 and isinstance(value[0], (list, tuple)):
        value = value[0]
    if isinstance(value, (list, tuple)) and len(value) == 2:
        s, e = value
        if (
            isinstance(s, (int, np.integer))
            and isinstance(e, (int, np.integer))
            and not (isinstance(s, bool) or isinstance(e, bool))
        ):
            s, e = int(s), int(e)
            if s < 0 or e < s:
                return None
            return (s, e) if e > s else EMPTY
    return None


def span_token_ranges(
    item: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    texts: Sequence[str | None] | None,
    *,
    chunk_items: int = 100_000,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row (item, [start, end)): the first and last token index the span overlaps
    (``last < first`` when it covers no token) and whether the item's text was tokenised;
    without text the character offsets stand in (``first = start``, ``last = end − 1``).
    Token indices are comparable between rows of the same item."""
    item = np.asarray(item, dtype=np.int64)
    start = np.asarray(start, dtype=np.int64)
    end = np.asarray(end, dtype=np.int64)
    first = start.copy()
    last = end - 1
    tokenised = np.zeros(item.size, dtype=bool)
    nonempty = end > start
    if texts is None or item.size == 0:
        return np.where(nonempty, first, 0), np.where(nonempty, last, -1), tokenised
    present = np.fromiter((t is not None for t in texts), dtype=bool, count=len(texts))
    has_text = present[item]
    rows = np.flatnonzero(has_text & nonempty)
    tokenised[has_text] = True
    if rows.size:
        n_items = len(texts)
        need = np.flatnonzero(np.bincount(item[rows], minlength=n_items))
        where = np.full(n_items, -1, dtype=np.int64)
        for lo in range(0, need.size, chunk_items):
            chunk = need[lo : lo + chunk_items]
            chunk_texts = [texts[i] or "" for i in chunk]
            lengths = np.fromiter(map(len, chunk_texts), dtype=np.int64, count=len(chunk_texts))
            base = np.r_[0, np.cumsum(lengths + 1)[:-1]]
            starts, nonspace = _token_starts(" ".join(chunk_texts) + " ")
            # cum[c] = tokens started at or before c: the last token at or before c is
            # cum[c] − 1, the first at or after c is cum[c] − 1 if c is in a token, else cum[c]
            cum = np.cumsum(starts, dtype=np.int32)
            where[chunk] = np.arange(chunk.size)
            r = rows[(item[rows] >= chunk[0]) & (item[rows] <= chunk[-1])]
            j = where[item[r]]
            s = np.minimum(start[r], lengths[j]) + base[j]
            e = np.minimum(end[r], lengths[j]) + base[j]
            f = cum[s] - nonspace[s]
            g = cum[np.maximum(e - 1, 0)] - 1
            bad = (e <= s) | (g < f)
            first[r] = np.where(bad, 0, f)
            last[r] = np.where(bad, -1, g)
    return np.where(nonempty, first, 0), np.where(nonempty, last, -1), tokenised


def span_pairs_f1(
    item: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    texts: Sequence[str | None] | None = None,
    *,
    tokens: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> SpanAgreement:
    """Span agreement from long rows: one row per (item, annotator) who labelled the item,
    ``start == end`` for an empty span; ``texts[item]`` is the item's text (or None).
    ``tokens`` = precomputed :func:`span_token_ranges` of the same rows."""
    item = np.asarray(item, dtype=np.int64)
    start = np.asarray(start, dtype=np.int64)
    end = np.asarray(end, dtype=np.int64)
    if tokens is None:
        tokens = span_token_ranges(item, start, end, texts)
    tfirst, tlast, tokenised = tokens
    if item.size == 0:
        return SpanAgreement(None, None, 0, 0, None, "characters")
    n_items = int(item.max()) + 1
    slot, n_slots = slot_layout(item, n_items)

    def grid(values: np.ndarray) -> np.ndarray:
        g = np.full((n_slots, n_items), -1, dtype=np.int64)
        g[slot, item] = values
        return g

    S, E, F, L = grid(start), grid(end), grid(tfirst), grid(tlast)
    has = grid(np.ones(item.size, dtype=np.int64)) > 0
    nonempty = has & (E > S)
    count = np.where(nonempty, np.maximum(L - F + 1, 0), 0)
    num_e = num_t = den_e = den_t = 0.0
    pairs = pairs_span = agree_presence = 0
    for i in range(n_slots):
        for j in range(i + 1, n_slots):
            ok = has[i] & has[j]
            if not ok.any():
                continue
            a, b = nonempty[i, ok], nonempty[j, ok]
            pairs += int(ok.sum())
            pairs_span += int((a | b).sum())
            agree_presence += int((a == b).sum())
            same = a & b & (S[i, ok] == S[j, ok]) & (E[i, ok] == E[j, ok])
            num_e += 2.0 * same.sum()
            den_e += float(a.sum() + b.sum())
            inter = np.minimum(L[i, ok], L[j, ok]) - np.maximum(F[i, ok], F[j, ok]) + 1
            num_t += 2.0 * np.maximum(inter, 0)[a & b].sum()
            den_t += float(count[i, ok].sum() + count[j, ok].sum())
    with_span = end > start
    if not tokenised[with_span].any():
        basis = "characters"
    elif tokenised[with_span].all():
        basis = "tokens"
    else:
        basis = "mixed"
    return SpanAgreement(
        exact_f1=float(num_e / den_e) if den_e else None,
        token_f1=float(num_t / den_t) if den_t else None,
        pairs=pairs,
        pairs_with_span=pairs_span,
        presence_agreement=agree_presence / pairs if pairs else None,
        token_basis=basis,
    )


def span_f1(
    spans: Any,
    texts: Sequence[str | None] | None = None,
) -> SpanAgreement:
    """Span agreement of an annotators × items matrix of spans. ``None`` = the annotator did
    not label the item; ``[]`` / ``()`` / a zero-length span = labelled, no span;
    ``[start, end]`` = character offsets into ``texts[item]``, end exclusive."""
    rows = [list(r) for r in spans]
    items, starts, ends = [], [], []
    for row in rows:
        for j, v in enumerate(row):
            if v is None:
                continue
            p = parse_span(v)
            if p is None:
                continue
            items.append(j)
            starts.append(p[0])
            ends.append(p[1])
    return span_pairs_f1(np.asarray(items), np.asarray(starts), np.asarray(ends), texts)
