"""The Chroma side of the index, the single source of truth for chunks: :mod:`~vectorstore.chroma.store`
(``ChunkStore``: chunks and their vectors in one collection, written in two phases, read as committed
documents only; it announces its writes to the observers its owner registers),
:mod:`~vectorstore.chroma.registry` (the document registry, a second collection whose records commit each
document), :mod:`~vectorstore.chroma.maintenance` (checking, cleaning, compacting, rebuilding and salvaging),
:mod:`~vectorstore.chroma.schema` (the metadata keys and flags, what the model embeds for a chunk),
:mod:`~vectorstore.chroma.client` (opening the embedded client or a server's, finishing a rebuild a crash
interrupted), :mod:`~vectorstore.chroma.sync` (circuit breaker, swap lock, bounded HTTP client) and
:mod:`~vectorstore.chroma.chroma_io` (Chroma's results and arguments as the store reads and writes them)."""
