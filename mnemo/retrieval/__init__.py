"""Retrieval shared by every searchable kind: cached embeddings, hybrid search, access stats."""
