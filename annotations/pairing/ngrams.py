"""Character n-gram TF-IDF without a fitted vocabulary, so new claims never re-fit the pool.

Same-language similarity uses character n-grams (``char_wb``, 3 to 5 characters,
lowercased: spelling variants such as Sheikhoun / Shaykhun share most of them) weighted
by sublinear term frequency and smoothed IDF, rows scaled to unit length: what
scikit-learn's ``TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5),
sublinear_tf=True)`` gives, with one difference that makes it incremental:

* **The n-gram space is fixed.** N-grams are hashed into :data:`BUCKETS` columns
  (``HashingVectorizer``, no sign flipping), so there is no vocabulary to fit, store or
  grow: a claim's counts are a function of its text alone. They are memoised per text
  in the process (:class:`_Memo`, bounded by :data:`MEMO_NONZEROS` stored entries), so a
  long-lived worker analyses each text once; an incremental run analyses only the new
  claims' texts.
* **Document frequencies are a sum.** ``df`` of a pool is the column count of its rows'
  nonzeros (one ``bincount``); adding claims adds their rows. The IDF, and so every
  cosine, is that of the current pool, exactly as a full re-fit would give it.

Hash collisions merge unrelated n-grams: with 2**20 buckets and the few hundred
thousand distinct n-grams of a large project, a collision changes a cosine by far less
than the scores' resolution.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

BUCKETS = 1 << 20
NGRAM_RANGE = (3, 5)
#: Upper bound on memoised nonzeros (about 6 bytes each: int32 column, uint16 count);
#: 40 million is ~240 MB, the rows of roughly 120,000 claims of 150-200 characters.
MEMO_NONZEROS = 40_000_000

_HASHER = HashingVectorizer(
    analyzer="char_wb",
    ngram_range=NGRAM_RANGE,
    n_features=BUCKETS,
    alternate_sign=False,
    norm=None,
    lowercase=True,
    dtype=np.float32,
)


class _Memo:
    """Per-text n-gram counts, least recently used dropped beyond ``limit`` nonzeros."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.rows: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self.nonzeros = 0
        self.lock = threading.Lock()
        self.analysed = 0  # texts analysed since start (for tests and the benchmark)

    def counts(self, texts: Sequence[str]) -> sp.csr_matrix:
        """``(len(texts), BUCKETS)`` n-gram counts (float32), one row per text."""
        with self.lock:
            found = {t: self.rows[t] for t in dict.fromkeys(texts) if t in self.rows}
            for t in found:
                self.rows.move_to_end(t)
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            fresh = sp.csr_matrix(_HASHER.transform(missing))
            fresh.sort_indices()
            new = {
                t: (
                    fresh.indices[fresh.indptr[r] : fresh.indptr[r + 1]].astype(np.int32),
                    np.minimum(fresh.data[fresh.indptr[r] : fresh.indptr[r + 1]], 65535).astype(
                        np.uint16
                    ),
                )
                for r, t in enumerate(missing)
            }
            found.update(new)
            with self.lock:
                self.analysed += len(missing)
                for t, row in new.items():
                    if t not in self.rows:
                        self.rows[t] = row
                        self.nonzeros += len(row[0])
                while self.nonzeros > self.limit and self.rows:
                    _, (old, _) = self.rows.popitem(last=False)
                    self.nonzeros -= len(old)
        parts = [found[t] for t in texts]
        indptr = np.zeros(len(parts) + 1, dtype=np.int64)
        np.cumsum([len(p[0]) for p in parts], out=indptr[1:])
        indices = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, np.int32)
        data = np.concatenate([p[1] for p in parts]) if parts else np.empty(0, np.uint16)
        return sp.csr_matrix(
            (data.astype(np.float32), indices, indptr), shape=(len(parts), BUCKETS)
        )

    def clear(self) -> None:
        with self.lock:
            self.rows.clear()
            self.nonzeros = 0


_MEMO = _Memo(MEMO_NONZEROS)


def ngram_counts(texts: Sequence[str]) -> sp.csr_matrix:
    """Hashed n-gram counts of ``texts`` (memoised per text)."""
    return _MEMO.counts(texts)


def texts_analysed() -> int:
    """How many texts this process has analysed (memo misses) so far."""
    return _MEMO.analysed


def tfidf(counts: sp.csr_matrix) -> sp.csr_matrix:
    """Unit-length TF-IDF rows: ``(1 + ln tf) * (1 + ln((1 + n) / (1 + df)))``.

    ``n`` and ``df`` are those of the rows given (the pool), as ``TfidfVectorizer``
    with ``sublinear_tf=True, smooth_idf=True`` computes them.
    """
    counts = sp.csr_matrix(counts, dtype=np.float32)
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
    data = (1.0 + np.log(counts.data)) * idf[counts.indices]
    lengths = np.diff(counts.indptr)
    row_of = np.repeat(np.arange(n), lengths)
    norms = np.sqrt(np.bincount(row_of, weights=data * data, minlength=n)).astype(np.float32)
    norms[norms == 0] = 1.0
    data /= norms[row_of]
    return sp.csr_matrix(
        (data.astype(np.float32), counts.indices, counts.indptr), shape=counts.shape
    )
