-- Text as PostgreSQL's full-text search sees it, for rankers computed outside the
-- database (the BM25 baseline of `mnemo bench recall`).

-- name: lexemes
-- Each text's lexemes, one per occurrence, in input order (texts without any: '{}').
SELECT coalesce(array_agg(l.lexeme ORDER BY l.lexeme) FILTER (WHERE l.lexeme IS NOT NULL),
                '{}') AS tokens
FROM unnest(%(texts)s::text[]) WITH ORDINALITY AS t(body, n)
LEFT JOIN LATERAL unnest(to_tsvector(%(ts_config)s::regconfig, t.body))
    AS l(lexeme, positions, weights) ON true
LEFT JOIN LATERAL generate_series(1, coalesce(array_length(l.positions, 1), 1)) AS g ON true
GROUP BY t.n
ORDER BY t.n
