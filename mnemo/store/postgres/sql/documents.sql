-- Reference documents and their chunks. A document belongs to one user, or to
-- the whole tenant when its user_id is '' (a shared corpus). {columns} is the
-- document column list over the alias d (documents.py).

-- name: lock_document
-- Loads of one document take turns (released at commit).
SELECT pg_advisory_xact_lock(hashtextextended(
    'mnemo.documents:' || %(tenant)s || chr(31) || %(user)s || chr(31) || %(name)s, 0))

-- name: document_by_name
SELECT {columns} FROM documents d
WHERE d.tenant_id = %(tenant)s AND d.user_id = %(user)s AND d.name = %(name)s

-- name: document_by_id
-- A document the user may read: their own or the tenant's shared ones.
SELECT {columns} FROM documents d
WHERE d.tenant_id = %(tenant)s AND d.user_id = ANY (%(users)s::text[]) AND d.id = %(id)s

-- name: reusable_embeddings
-- Vectors of a document's stored chunks by text hash, for a reload to reuse.
SELECT DISTINCT ON (content_hash) content_hash, embedding
FROM chunks
WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND document_id = %(document)s
  AND embedding_model = %(model)s AND content_hash = ANY (%(hashes)s::bytea[])

-- name: upsert_document
INSERT INTO documents AS d (
    tenant_id, user_id, id, agent_id, session_id, name, uri, format, title, content_hash,
    char_count, chunk_count, metadata
)
VALUES (%(tenant)s, %(user)s, %(id)s, %(agent)s, %(session)s, %(name)s, %(uri)s, %(format)s,
        %(title)s, %(content_hash)s, %(char_count)s, %(chunk_count)s, %(metadata)s)
ON CONFLICT (tenant_id, user_id, name) DO UPDATE SET
    agent_id = excluded.agent_id,
    session_id = excluded.session_id,
    uri = excluded.uri,
    format = excluded.format,
    title = excluded.title,
    content_hash = excluded.content_hash,
    char_count = excluded.char_count,
    chunk_count = excluded.chunk_count,
    metadata = excluded.metadata,
    version = d.version + 1,
    loaded_at = excluded.loaded_at
RETURNING {columns}

-- name: delete_chunks
DELETE FROM chunks
WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND document_id = %(document)s

-- name: insert_chunks
WITH input AS (
    SELECT t.*, to_tsvector(%(ts_config)s::regconfig, t.content) AS tsv
    FROM unnest(
        %(ids)s::uuid[], %(indexes)s::integer[], %(headings)s::jsonb[], %(starts)s::integer[],
        %(ends)s::integer[], %(tokens)s::integer[], %(contents)s::text[],
        %(embeddings)b::vector[]
    ) AS t(id, chunk_index, heading, char_start, char_end, tokens, content, embedding)
)
INSERT INTO chunks (
    tenant_id, user_id, id, document_id, document_version, agent_id, session_id, chunk_index,
    heading_path, char_start, char_end, tokens, content, content_hash, embedding,
    embedding_model, tsv, doc_len, metadata, created_at
)
SELECT %(tenant)s, %(user)s, id, %(document)s, %(version)s, %(agent)s, %(session)s,
       chunk_index, ARRAY(SELECT jsonb_array_elements_text(heading)), char_start, char_end,
       tokens, content, sha256(convert_to(content, 'UTF8')), embedding, %(model)s, tsv,
       mnemo_tsv_length(tsv), %(metadata)s, %(loaded_at)s
FROM input
-- Citus writes an INSERT ... SELECT without RETURNING with COPY, which row-level
-- security refuses for the service's role; with RETURNING it sends INSERTs.
RETURNING id

-- name: list_documents
SELECT {columns} FROM documents d
WHERE d.tenant_id = %(tenant)s AND d.user_id = ANY (%(users)s::text[])
  AND (%(agent)s::text IS NULL OR d.agent_id IS NULL OR d.agent_id = %(agent)s)
  AND (%(session)s::text IS NULL OR d.session_id IS NULL OR d.session_id = %(session)s)
ORDER BY d.loaded_at DESC, d.id
LIMIT %(limit)s OFFSET %(offset)s

-- name: delete_document
DELETE FROM documents
WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND id = %(id)s
RETURNING id

-- name: chunks_of_document
SELECT m.id, m.chunk_index, m.heading_path, m.content, m.document_version
FROM chunks m
WHERE m.tenant_id = %(tenant)s AND m.user_id = %(user)s AND m.document_id = %(document)s
ORDER BY m.chunk_index

-- name: chunk_records
-- Chunks with their document's name and title, for search results.
SELECT m.id, m.user_id, m.document_id, m.document_version, m.agent_id, m.session_id,
       m.chunk_index, m.heading_path, m.char_start, m.char_end, m.tokens, m.content,
       m.metadata, m.created_at, m.embedding_model, d.name AS document_name,
       d.title AS document_title, d.format AS document_format
FROM chunks m
JOIN documents d ON d.tenant_id = m.tenant_id AND d.user_id = m.user_id AND d.id = m.document_id
WHERE m.tenant_id = %(tenant)s AND m.user_id = ANY (%(users)s::text[])
  AND m.id = ANY (%(ids)s::uuid[])

-- name: document_stats
SELECT count(*) AS documents, coalesce(sum(chunk_count), 0) AS chunks,
       coalesce(sum(char_count), 0) AS characters, max(loaded_at) AS last_loaded_at
FROM documents
WHERE tenant_id = %(tenant)s AND user_id = %(user)s

-- name: shared_chunk_count
SELECT count(*) AS n FROM chunks WHERE tenant_id = %(tenant)s AND user_id = ''

-- name: pgvector_version
SELECT extversion FROM pg_extension WHERE extname = 'vector'

-- name: index_state
SELECT i.indisvalid AS valid
FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
WHERE c.relname = %(name)s AND c.relnamespace = current_schema()::regnamespace

-- name: create_shared_hnsw
-- {name} and {dim} are filled with an identifier and a literal. Partial: only
-- shared chunks of that dimension are indexed (the cast needs a fixed size).
CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON chunks
USING hnsw ((embedding::vector({dim})) vector_cosine_ops)
WHERE user_id = '' AND vector_dims(embedding) = {dim}

-- name: drop_index
DROP INDEX CONCURRENTLY IF EXISTS {name}

-- name: shared_vector_candidates
-- Nearest shared chunks of one tenant through the HNSW index ({dim} a literal).
SELECT m.id FROM chunks m
WHERE m.user_id = '' AND vector_dims(m.embedding) = {dim}
  AND m.tenant_id = %(tenant)s AND m.embedding_model = %(model)s
ORDER BY m.embedding::vector({dim}) <=> %(query_vector)b::vector({dim})
LIMIT %(depth)s

-- name: shared_lexical_candidates
-- Shared chunks of one tenant matching any query word, through the GIN index.
SELECT m.id FROM chunks m
WHERE m.user_id = '' AND m.tenant_id = %(tenant)s
  AND m.tsv @@ replace(plainto_tsquery(%(ts_config)s::regconfig, %(query_text)s)::text,
                       ' & ', ' | ')::tsquery
ORDER BY ts_rank_cd(m.tsv, replace(plainto_tsquery(%(ts_config)s::regconfig,
                       %(query_text)s)::text, ' & ', ' | ')::tsquery) DESC
LIMIT %(depth)s
