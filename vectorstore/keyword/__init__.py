"""The kept keyword side of the index: BM25 over jieba tokens, term statistics and the outline, derived from
the Chroma collection and kept on disk beside it, updated per document."""
