-- Embeddings already computed, by model and the SHA-256 of the text, per user.

-- name: get_embeddings
SELECT text_hash, embedding
FROM embedding_cache
WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND model = %(model)s
  AND input_type = %(input_type)s AND text_hash = ANY(%(hashes)s::bytea[])

-- name: put_embeddings
INSERT INTO embedding_cache (tenant_id, user_id, model, input_type, text_hash, embedding)
SELECT %(tenant)s, t.user_id, %(model)s, t.input_type, t.text_hash, t.embedding
FROM unnest(%(users)s::text[], %(input_types)s::text[], %(hashes)s::bytea[],
            %(embeddings)b::vector[]) AS t(user_id, input_type, text_hash, embedding)
ON CONFLICT DO NOTHING
