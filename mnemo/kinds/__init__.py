"""The kinds of memory mnemo keeps, each over the shared store and retrieval."""
