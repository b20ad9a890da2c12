-- The hybrid candidate query shared by every searchable table (memories,
-- messages, document chunks, entities). Formatted with psycopg.sql: {table} is
-- the table, {where} a scope + filter fragment over the alias m, {signals} the
-- table's confidence / importance / access_count expressions over m and its
-- {joins} (memories: their access statistics), and
-- {previous} the condition and order (over m and a candidate's row k) that find
-- a candidate's stored predecessor. Both queries gather their legs, then end in
-- {ranked}: BM25, the lexical leg, and one row per candidate.

-- name: search_candidates
-- Exact: the best %(depth)s rows by cosine distance over the whole scope, and BM25
-- over the OR of the query's lexemes. The lexical leg reads only the rows the GIN
-- index (user_id, tsv) finds; term frequencies come from ``terms``.
WITH query_terms AS MATERIALIZED (
    SELECT DISTINCT lexeme FROM unnest(to_tsvector(%(ts_config)s::regconfig, %(query_text)s))
),
scope AS MATERIALIZED (
    SELECT m.id, m.doc_len,
           CASE WHEN m.embedding_model = %(model)s
                THEN m.embedding <=> %(query_vector)b END AS distance
    FROM {table} m
    WHERE {where}
),
collection AS MATERIALIZED (
    SELECT count(*)::float8 AS n, greatest(avg(doc_len), 1)::float8 AS avgdl FROM scope
),
vector_leg AS (
    SELECT id, row_number() OVER (ORDER BY distance, id) AS rank
    FROM scope
    WHERE distance IS NOT NULL
    ORDER BY distance, id
    LIMIT %(depth)s
),
term_hits AS MATERIALIZED (
    SELECT t.*, count(*) OVER (PARTITION BY t.lexeme)::float8 AS df
    FROM (
        SELECT m.id, m.doc_len, q.lexeme, (m.terms ->> q.lexeme)::float8 AS tf
        FROM {table} m
        JOIN query_terms q ON m.terms ? q.lexeme
        WHERE {where}
          AND m.tsv @@ mnemo_any_lexeme(ARRAY(SELECT lexeme FROM query_terms))
    ) t
),
{ranked}

-- name: search_candidates_indexed
-- A very large scope with its own HNSW index (scope_indexes.py): the vector leg
-- walks that index ({indexed} is its predicate, {dim} its dimension), and the
-- lexical leg scores the rows holding a word that is rare in the scope (at most
-- %(term_cap)s rows; a commoner word counts only in rows found otherwise) plus
-- the vector leg's rows. N and the mean length come from the registry.
WITH query_terms AS MATERIALIZED (
    SELECT DISTINCT lexeme FROM unnest(to_tsvector(%(ts_config)s::regconfig, %(query_text)s))
),
term_rows AS MATERIALIZED (
    SELECT q.lexeme, r.id
    FROM query_terms q
    CROSS JOIN LATERAL (
        SELECT m.id FROM {table} m
        WHERE {where} AND m.tsv @@ mnemo_any_lexeme(ARRAY[q.lexeme])
        LIMIT %(term_cap)s + 1
    ) r
),
doc_freq AS (
    SELECT lexeme, count(*)::float8 AS df FROM term_rows GROUP BY lexeme
),
collection AS (
    SELECT %(scope_rows)s::float8 AS n, greatest(%(avg_doc_len)s, 1)::float8 AS avgdl
),
vector_leg AS (
    SELECT id, row_number() OVER (ORDER BY distance, id) AS rank
    FROM (
        SELECT m.id, m.embedding::vector({dim}) <=> %(query_vector)b AS distance
        FROM {table} m
        WHERE {where} AND {indexed}
        ORDER BY m.embedding::vector({dim}) <=> %(query_vector)b
        LIMIT %(depth)s
    ) nearest
),
pool AS (
    SELECT id FROM vector_leg
    UNION
    SELECT r.id FROM term_rows r JOIN doc_freq d USING (lexeme) WHERE d.df <= %(term_cap)s
),
term_hits AS MATERIALIZED (
    SELECT m.id, m.doc_len, q.lexeme, (m.terms ->> q.lexeme)::float8 AS tf, d.df
    FROM pool p
    JOIN {table} m ON m.id = p.id AND {where}
    JOIN query_terms q ON m.terms ? q.lexeme
    JOIN doc_freq d ON d.lexeme = q.lexeme
),
{ranked}

-- name: ranked_candidates
-- The end both queries share: BM25 from term_hits (id, doc_len, lexeme, tf, df)
-- and collection (n, avgdl), the lexical leg, and every candidate of either leg
-- with both scores (BM25 0 when its text does not match), its predecessor's id
-- (a candidate's successor is the candidate whose predecessor it is) and the
-- number of rows searched (so no separate count decides when a scope needs its
-- own index).
bm25 AS (
    SELECT h.id,
           sum(ln(1 + (c.n - h.df + 0.5) / (h.df + 0.5))
               * h.tf * (%(k1)s + 1)
               / (h.tf + %(k1)s * (1 - %(b)s + %(b)s * h.doc_len / c.avgdl))) AS score
    FROM term_hits h CROSS JOIN collection c
    GROUP BY h.id
),
lexical_leg AS (
    SELECT id, row_number() OVER (ORDER BY score DESC, id) AS rank
    FROM bm25
    ORDER BY score DESC, id
    LIMIT %(depth)s
),
candidates AS (
    SELECT id, v.rank AS vector_rank, l.rank AS lexical_rank
    FROM vector_leg v FULL JOIN lexical_leg l USING (id)
)
SELECT m.id, c.vector_rank, c.lexical_rank,
       CASE WHEN m.embedding_model = %(model)s
            THEN 1 - (m.embedding <=> %(query_vector)b) END AS similarity,
       coalesce(b.score, 0) AS lexical_score,
       (SELECT m.id FROM {table} m WHERE {where} AND {previous} LIMIT 1) AS prev_id,
       m.created_at, {signals}, (SELECT n FROM collection)::bigint AS scope_rows
FROM candidates c
JOIN {table} m ON m.id = c.id AND {where}
{joins}
CROSS JOIN LATERAL (SELECT m.*) k
LEFT JOIN bm25 b ON b.id = c.id

-- name: get_user_rows
-- The records of one user's rows with these ids (any order; callers reorder).
SELECT {columns} FROM {table} m {joins}
WHERE m.tenant_id = %(tenant)s AND m.user_id = %(user)s AND m.id = ANY(%(ids)s::uuid[])
