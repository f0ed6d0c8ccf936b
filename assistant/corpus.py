"""The indexed corpus as the answer steps read it: one snapshot per index revision."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from assistant.lists import Outline
from assistant.termstats import TermStats
from vectorstore.embedding.embeddings import CachedEmbeddings
from vectorstore.keyword.lexical import KeywordIndex
from vectorstore.keyword.snapshot import Snapshot
from vectorstore.records import Origin
from zhtext.words import Segmenter


@dataclass(frozen=True)
class CorpusView:
    """What the answer steps read of the indexed corpus: one snapshot of the index."""

    index: KeywordIndex
    stats: TermStats
    outline: Outline
    origins: Mapping[str, Origin] = field(default_factory=dict)  # doc id → where the document came from

    @property
    def segmenter(self) -> Segmenter:
        """The index's dictionary (the common one plus the corpus's quoted terms): questions are read with it."""
        return self.index.segmenter

    @cached_property
    def documents(self) -> dict[str, str]:
        """Source file name → its indexed text (chunks joined): where a name an LLM reply uses may be found."""
        docs: dict[str, list[str]] = {}
        for chunk in sorted(self.index.chunks, key=lambda c: (c.source, c.start)):
            docs.setdefault(chunk.source, []).append(f"{chunk.section}\n{chunk.text}")
        return {source: "\n".join(parts) for source, parts in docs.items()}

    @classmethod
    def of(
        cls,
        index: KeywordIndex,
        embeddings: CachedEmbeddings | None = None,
        origins: Mapping[str, Origin] | None = None,
    ) -> CorpusView:
        """Term statistics and outline of the chunks ``index`` holds, built here (``embeddings``, here and in
        :meth:`kept`, is not read: nothing of the corpus is embedded for the answer steps)."""
        chunks = list(index.chunks)
        stats, outline = TermStats(chunks), Outline.of(chunks)
        return cls(index, stats, outline, dict(origins or {}))

    @classmethod
    def kept(cls, snapshot: Snapshot, embeddings: CachedEmbeddings | None = None) -> CorpusView:
        """The same, read from a snapshot of the kept index (nothing is built: its arrays are on disk)."""
        stats = TermStats(counter=snapshot, n=snapshot.n)
        outline = Outline(snapshot.sections, snapshot.groups)
        return cls(snapshot, stats, outline, snapshot.origins)
