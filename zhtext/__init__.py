"""The Chinese language resources of every layer: sentences, plan/achievement cues, and the answerer's word lists.

It sits below ``ingest``, ``vectorstore`` and ``assistant`` and imports none of them, so that
indexing and answering split text in exactly the same way.
"""
