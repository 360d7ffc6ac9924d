"""Hashed character n-gram TF-IDF: sklearn's weighting, per-text memo, pool-level IDF."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from annotations.pairing import ngrams
from annotations.pairing.probe import load_probe


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [c.text for c in load_probe(embed=False).pool if c.language == "en"]


def test_cosines_match_a_fitted_vectorizer(texts: list[str]) -> None:
    fitted = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    reference = fitted.fit_transform(texts)
    hashed = ngrams.tfidf(ngrams.ngram_counts(texts))
    want = (reference @ reference.T).toarray()
    got = (hashed @ hashed.T).toarray()
    # the same weighting; only hash collisions (2**20 buckets) move a cosine, a little
    gap = np.abs(got - want)
    assert gap.max() < 0.05
    assert np.percentile(gap, 99) < 0.005
    assert gap.mean() < 5e-4
    np.testing.assert_allclose(np.diag(got), 1.0, atol=1e-5)


def test_counts_are_memoised_per_text(texts: list[str]) -> None:
    ngrams.ngram_counts(texts)
    before = ngrams.texts_analysed()
    fresh = ["A text no probe sentence has, about a convoy near Heish.", texts[0]]
    counts = ngrams.ngram_counts([*texts, *fresh])
    assert ngrams.texts_analysed() - before == 1  # only the new text was analysed
    assert counts.shape == (len(texts) + 2, ngrams.BUCKETS)
    assert (counts[len(texts) + 1] != counts[0]).nnz == 0  # same text, same row


def test_idf_is_that_of_the_pool_given(texts: list[str]) -> None:
    small = ngrams.tfidf(ngrams.ngram_counts(texts[:20]))
    large = ngrams.tfidf(ngrams.ngram_counts(texts))
    # row 0 is weighted by the pool it is in (document frequencies are per pool)
    assert (small[0] != large[0]).nnz > 0
    again = ngrams.tfidf(ngrams.ngram_counts(texts[:20]))
    assert (again != small).nnz == 0


def test_empty_and_tiny_texts_give_empty_rows() -> None:
    rows = ngrams.tfidf(ngrams.ngram_counts(["", "a", "ok"]))
    assert rows.shape[0] == 3
    assert rows[0].nnz == 0
    assert np.isfinite(rows.data).all()


def test_memo_stays_within_its_budget() -> None:
    memo = ngrams._Memo(limit=2_000)
    memo.counts([f"sentence number {k} about the front line" for k in range(200)])
    assert memo.nonzeros <= 2_000
    assert 0 < len(memo.rows) < 200
