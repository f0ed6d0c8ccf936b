"""Embedding engines and the bundled model as a local Hugging Face model."""
