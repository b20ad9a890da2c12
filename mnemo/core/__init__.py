"""Pure building blocks: records, scopes, ids, scoring and fusion. No I/O here."""
