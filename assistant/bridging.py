"""Word bridging: a question word the corpus never uses, matched to corpus words close in meaning.

「上学」 is not in the reports; 「入学」 and 「学校」 are.  The question word's vector is compared
with the vectors of the corpus's common content words (:class:`vectorstore.embedding.semantic.Vocabulary`,
embedded at ingest); the nearest few above a similarity floor become its bridge.  Bridged words
are features for the answer model (a sentence holding 入学 partly covers 上学), never proof:
金水区 is close to 二七区 too, and the model has learned how much a bridge is worth.
"""
from __future__ import annotations

from assistant.features import Bridge
from assistant.question import Question
from assistant.termstats import TermStats
from vectorstore.embedding.embeddings import CachedEmbeddings
from vectorstore.embedding.semantic import Vocabulary


def unknown_terms(question: Question, stats: TermStats) -> list:
    """The question's own words of two or more characters that no indexed passage contains."""
    return [t for t in question.terms if not t.carried and not t.guessed and len(t.surface) >= 2 and not stats.known(t)]


def bridges(question: Question, stats: TermStats, vocabulary: Vocabulary, embeddings: CachedEmbeddings,
            k: int, min_similarity: float) -> list[Bridge]:
    unknown = unknown_terms(question, stats)
    if not unknown or not vocabulary.words:
        return []
    near = vocabulary.nearest(embeddings.vectors([t.surface for t in unknown]), k, min_similarity)
    return [Bridge(t, tuple(w for w, _ in n), tuple(s for _, s in n)) for t, n in zip(unknown, near, strict=True) if n]
