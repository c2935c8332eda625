"""Names for clusters from a metadata column: the dominant category, or the most distinctive words.

A column with few distinct values is categorical: a cluster is named by its most frequent value.
Otherwise it is text: a cluster is named by its three most distinctive words by class-based TF-IDF
(reducers.clusters.class_tfidf), on at most LABEL_DOCS documents per cluster.
"""

from __future__ import annotations

import math

import numpy as np

from projector.data.metadata import Metadata
from reducers.clusters import class_tfidf

LABEL_WORDS = 3
LABEL_DOCS = 2000  # documents per cluster that the words are counted on (a seeded sample)
TEXT_WORDS = 3.0  # mean words per cell from which a column reads as text (preferred for labels)
SAMPLE = 5000  # cells looked at to decide what a column holds
TOKEN = r"(?u)\b[^\W\d_]{2,}\b"  # words of two letters or more, no digits


def is_categorical(values: list[str]) -> bool:
    """Few distinct values (at most max(20, sqrt(n))): a set of categories rather than free text."""
    return len(set(values)) <= max(20, math.isqrt(len(values)))


def _numeric(cells: list[str]) -> bool:
    try:
        for cell in cells:
            if cell:
                float(cell)
    except ValueError:
        return False
    return True


def default_label_column(metadata: Metadata) -> str | None:
    """The column that best names clusters: the first text column, else the first categorical one."""
    step = max(1, len(metadata.rows) // SAMPLE)
    sample = metadata.rows[::step]
    categorical = None
    for position, name in enumerate(metadata.columns):
        cells = [row[position] for row in sample]
        if _numeric(cells):
            continue
        if np.mean([len(cell.split()) for cell in cells]) >= TEXT_WORDS:
            return name
        if categorical is None and len(set(cells)) > 1:
            categorical = name
    return categorical


def label_clusters(values: list[str], labels: np.ndarray, n_clusters: int, seed: int = 0) -> list[str]:
    """A short name for each cluster 0..n_clusters-1 from its rows' `values` ("" when nothing names it)."""
    if n_clusters == 0:
        return []
    if is_categorical(values):
        return _dominant(values, labels, n_clusters)
    return _distinctive_words(values, labels, n_clusters, seed)


def _dominant(values: list[str], labels: np.ndarray, n_clusters: int) -> list[str]:
    names, codes = np.unique(np.asarray(values, dtype=object), return_inverse=True)
    found = labels >= 0
    counts = np.zeros((n_clusters, len(names)), dtype=np.int64)
    np.add.at(counts, (labels[found], codes[found]), 1)
    return [str(names[i]) or "(empty)" for i in counts.argmax(axis=1)]


def _distinctive_words(values: list[str], labels: np.ndarray, n_clusters: int, seed: int) -> list[str]:
    from sklearn.feature_extraction.text import CountVectorizer

    rng = np.random.default_rng(seed)
    chosen = []
    for cluster in range(n_clusters):
        members = np.flatnonzero(labels == cluster)
        if len(members) > LABEL_DOCS:
            members = np.sort(rng.choice(members, LABEL_DOCS, replace=False))
        chosen.append(members)
    rows = np.concatenate(chosen)
    documents = [values[i] for i in rows.tolist()]
    try:
        counts = CountVectorizer(token_pattern=TOKEN, stop_words="english", min_df=2 if len(documents) > 200 else 1).fit(documents)
    except ValueError:  # no word at all (numbers, empty cells)
        return [""] * n_clusters
    scores = class_tfidf(counts.transform(documents), labels[rows], n_clusters)
    vocabulary = counts.get_feature_names_out()
    names = []
    for row in scores:
        top = [i for i in np.argsort(-row, kind="stable")[:LABEL_WORDS] if row[i] > 0]
        names.append(", ".join(str(vocabulary[i]) for i in top))
    return names
