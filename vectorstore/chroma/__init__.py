"""The Chroma side of the index: chunks and their vectors in one collection, the document registry that
commits them, checking, compacting and repairing the collection, and the calls to a Chroma server
(timeouts, circuit breaker)."""
