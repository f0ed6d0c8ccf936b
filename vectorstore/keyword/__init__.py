"""The kept keyword side of the index: BM25 postings, term statistics and the outline, on disk beside the
Chroma index (``INDEX_DIR/lexical/<collection>``), updated per document, loaded memory-mapped.  Chroma stays
the source of truth; this folder holds what is derived from it:

* immutable **segments** (:mod:`~vectorstore.keyword.segment`): chunks with their BM25 postings, character
  and pair postings (:mod:`~vectorstore.keyword.grams`) and outline keys;
* **generations** (:mod:`~vectorstore.keyword.manifest`): which segments (and which of their rows are
  dead), the documents they hold, the corpus terms their segmenter adds to jieba's dictionary and the
  collection version they are current with; ``CURRENT`` names the newest
  (:mod:`~vectorstore.keyword.folder`).

Modules: :mod:`~vectorstore.keyword.lexical` (BM25 over jieba tokens, and :class:`LexicalIndex`, the fresh
in-memory build a kept index must equal), :mod:`~vectorstore.keyword.snapshot` (reading one generation:
what questions read), :mod:`~vectorstore.keyword.builder` (writing the next one after a write; texts cut in
pool processes by :mod:`~vectorstore.keyword.tokenpool`), :mod:`~vectorstore.keyword.service` (serving
snapshots and keeping the folder up to date).

Scores equal a fresh build bit for bit: BM25 is computed from postings exactly as bm25s computes it, the
segmenter is a function of the set of corpus terms alone and a term changes only the cut of the texts
holding it (:class:`zhtext.words.Segmenter`), and rows whose text holds a term that came or went are
tokenized again.
"""
