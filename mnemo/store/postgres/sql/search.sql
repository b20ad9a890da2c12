-- The hybrid candidate query shared by every searchable table (memories,
-- messages, document chunks). Formatted with psycopg.sql: {table} is the table,
-- {signals} its confidence / importance / access_count expressions over the
-- alias m, {neighbours} the window that makes stored neighbours adjacent, and
-- {where} a scope + filter fragment over m.

-- name: search_candidates
-- The best %(depth)s rows of each leg: exact cosine distance and BM25 over the
-- OR of the query's lexemes (term frequencies from the ``terms`` jsonb). Every
-- candidate carries both scores (BM25 0 when its text does not match) and the
-- ids of its stored neighbours.
WITH scope AS MATERIALIZED (
    SELECT m.id, m.terms, m.doc_len, m.created_at, {signals},
           CASE WHEN m.embedding_model = %(model)s
                THEN m.embedding <=> %(query_vector)b END AS distance,
           lag(m.id) OVER adjacent AS prev_id, lead(m.id) OVER adjacent AS next_id
    FROM {table} m
    WHERE {where}
    WINDOW adjacent AS ({neighbours})
),
vector_leg AS (
    SELECT id, row_number() OVER (ORDER BY distance, id) AS rank
    FROM scope
    WHERE distance IS NOT NULL
    ORDER BY distance, id
    LIMIT %(depth)s
),
query_terms AS (
    SELECT lexeme FROM unnest(to_tsvector(%(ts_config)s::regconfig, %(query_text)s))
),
collection AS (
    SELECT count(*)::float8 AS n, greatest(avg(doc_len), 1)::float8 AS avgdl FROM scope
),
term_hits AS (
    SELECT s.id, s.doc_len, q.lexeme, (s.terms ->> q.lexeme)::float8 AS tf
    FROM scope s CROSS JOIN query_terms q
    WHERE s.terms ? q.lexeme
),
doc_freq AS (
    SELECT lexeme, count(*)::float8 AS df FROM term_hits GROUP BY lexeme
),
bm25 AS (
    SELECT h.id,
           sum(ln(1 + (c.n - d.df + 0.5) / (d.df + 0.5))
               * h.tf * (%(k1)s + 1)
               / (h.tf + %(k1)s * (1 - %(b)s + %(b)s * h.doc_len / c.avgdl))) AS score
    FROM term_hits h JOIN doc_freq d USING (lexeme) CROSS JOIN collection c
    GROUP BY h.id
),
lexical_leg AS (
    SELECT id, row_number() OVER (ORDER BY score DESC, id) AS rank
    FROM bm25
    ORDER BY score DESC, id
    LIMIT %(depth)s
),
candidates AS (
    SELECT id FROM vector_leg UNION SELECT id FROM lexical_leg
)
SELECT s.id, v.rank AS vector_rank, l.rank AS lexical_rank,
       1 - s.distance AS similarity, coalesce(b.score, 0) AS lexical_score,
       s.prev_id, s.next_id, s.created_at, s.confidence, s.importance, s.access_count
FROM candidates c
JOIN scope s USING (id)
LEFT JOIN vector_leg v USING (id)
LEFT JOIN lexical_leg l USING (id)
LEFT JOIN bm25 b USING (id)

-- name: get_user_rows
-- The records of one user's rows with these ids (any order; callers reorder).
SELECT {columns} FROM {table} m
WHERE m.tenant_id = %(tenant)s AND m.user_id = %(user)s AND m.id = ANY(%(ids)s::uuid[])
