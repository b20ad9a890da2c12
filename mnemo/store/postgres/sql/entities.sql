-- Entities of one user, their aliases, where they were mentioned, and relations
-- between them. Every query is bound to one tenant and one user. {columns} is
-- the entity column list over the alias e (entities.py).

-- name: lock_user
-- Observations of one user are merged one at a time (released at commit).
SELECT pg_advisory_xact_lock(hashtextextended('mnemo.entities:' || %(tenant)s || chr(31) || %(user)s, 0))

-- name: resolve_keys
-- The entity each case-folded key names, by canonical name or else by alias. Keys
-- are matched with = ANY, not unnest: Citus refuses the aliases' correlated
-- sub-query in {columns} beside a set-returning function.
WITH named AS (
    SELECT DISTINCT ON (x.key) x.key, x.id
    FROM (
        SELECT canonical_name AS key, id, 0 AS pref FROM entities
        WHERE tenant_id = %(tenant)s AND user_id = %(user)s
          AND canonical_name = ANY(%(keys)s::text[])
        UNION ALL
        SELECT alias_key, entity_id, 1 FROM entity_aliases
        WHERE tenant_id = %(tenant)s AND user_id = %(user)s
          AND alias_key = ANY(%(keys)s::text[])
    ) x
    ORDER BY x.key, x.pref, x.id
)
SELECT n.key, {columns}
FROM named n
JOIN entities e ON e.tenant_id = %(tenant)s AND e.user_id = %(user)s AND e.id = n.id

-- name: known_surfaces
-- Names and aliases the extractor should recognise, most recently seen first.
SELECT a.alias AS surface, e.name, e.type, e.last_seen_at
FROM entity_aliases a
JOIN entities e ON e.tenant_id = a.tenant_id AND e.user_id = a.user_id AND e.id = a.entity_id
WHERE a.tenant_id = %(tenant)s AND a.user_id = %(user)s
UNION ALL
SELECT e.name, e.name, e.type, e.last_seen_at FROM entities e
WHERE e.tenant_id = %(tenant)s AND e.user_id = %(user)s
ORDER BY last_seen_at DESC, surface
LIMIT %(limit)s

-- name: upsert_entities
WITH input AS (
    SELECT t.*, to_tsvector(%(ts_config)s::regconfig, t.content) AS tsv
    FROM unnest(
        %(ids)s::uuid[], %(names)s::text[], %(keys)s::text[], %(types)s::text[],
        %(descriptions)s::text[], %(importances)s::real[], %(mentions)s::integer[],
        %(first_seen)s::timestamptz[], %(last_seen)s::timestamptz[], %(contents)s::text[]
    ) AS t(id, name, canonical_name, type, description, importance, mention_count,
           first_seen_at, last_seen_at, content)
)
INSERT INTO entities AS e (
    tenant_id, user_id, id, name, canonical_name, type, description, importance,
    mention_count, first_seen_at, last_seen_at, content, content_hash, tsv, doc_len
)
SELECT %(tenant)s, %(user)s, id, name, canonical_name, type, description, importance,
       mention_count, first_seen_at, last_seen_at, content,
       sha256(convert_to(content, 'UTF8')), tsv, mnemo_tsv_length(tsv)
FROM input
ON CONFLICT (tenant_id, user_id, id) DO UPDATE SET
    name = excluded.name,
    type = excluded.type,
    description = excluded.description,
    importance = excluded.importance,
    mention_count = excluded.mention_count,
    first_seen_at = excluded.first_seen_at,
    last_seen_at = excluded.last_seen_at,
    content = excluded.content,
    content_hash = excluded.content_hash,
    tsv = excluded.tsv,
    doc_len = excluded.doc_len,
    updated_at = excluded.updated_at
RETURNING e.id, e.content, e.content_hash

-- name: insert_aliases
-- An alias already naming an entity keeps naming it (the first claim wins).
INSERT INTO entity_aliases (tenant_id, user_id, alias_key, alias, entity_id)
SELECT %(tenant)s, %(user)s, t.alias_key, t.alias, t.entity_id
FROM unnest(%(alias_keys)s::text[], %(aliases)s::text[], %(entity_ids)s::uuid[])
    AS t(alias_key, alias, entity_id)
WHERE NOT EXISTS (
    SELECT FROM entities e
    WHERE e.tenant_id = %(tenant)s AND e.user_id = %(user)s
      AND e.canonical_name = t.alias_key AND e.id <> t.entity_id
)
ON CONFLICT (tenant_id, user_id, alias_key) DO NOTHING

-- name: upsert_mentions
INSERT INTO entity_mentions AS m (
    tenant_id, user_id, entity_id, agent_id, session_id, mention_count,
    first_seen_at, last_seen_at
)
SELECT %(tenant)s, %(user)s, t.entity_id, %(agent)s, %(session)s, t.n, t.first_seen, t.last_seen
FROM unnest(%(entity_ids)s::uuid[], %(counts)s::integer[], %(first_seen)s::timestamptz[],
            %(last_seen)s::timestamptz[]) AS t(entity_id, n, first_seen, last_seen)
ON CONFLICT (tenant_id, user_id, entity_id, agent_id, session_id) DO UPDATE SET
    mention_count = m.mention_count + excluded.mention_count,
    first_seen_at = least(m.first_seen_at, excluded.first_seen_at),
    last_seen_at = greatest(m.last_seen_at, excluded.last_seen_at)

-- name: upsert_relations
-- A relation seen again gains a mention, confidence (noisy-or), the newest
-- evidence (five sentences kept) and source ids (twenty kept).
INSERT INTO entity_relations AS r (
    tenant_id, user_id, id, subject_id, predicate, object_id, confidence, mention_count,
    evidence, source_message_ids, first_seen_at, last_seen_at
)
SELECT %(tenant)s, %(user)s, t.id, t.subject_id, t.predicate, t.object_id, t.confidence,
       t.n, ARRAY(SELECT jsonb_array_elements_text(t.evidence)),
       ARRAY(SELECT jsonb_array_elements_text(t.sources)::uuid), t.seen_at, t.seen_at
FROM unnest(%(ids)s::uuid[], %(subject_ids)s::uuid[], %(predicates)s::text[],
            %(object_ids)s::uuid[], %(confidences)s::real[], %(counts)s::integer[],
            %(evidence)s::jsonb[], %(sources)s::jsonb[], %(seen_at)s::timestamptz[])
    AS t(id, subject_id, predicate, object_id, confidence, n, evidence, sources, seen_at)
ON CONFLICT (tenant_id, user_id, subject_id, predicate, object_id) DO UPDATE SET
    confidence = 1 - (1 - r.confidence) * (1 - excluded.confidence),
    mention_count = r.mention_count + excluded.mention_count,
    evidence = ARRAY(
        SELECT x FROM unnest(r.evidence || excluded.evidence) WITH ORDINALITY u(x, n)
        GROUP BY x ORDER BY max(n) DESC LIMIT 5
    ),
    source_message_ids = ARRAY(
        SELECT x FROM unnest(r.source_message_ids || excluded.source_message_ids)
            WITH ORDINALITY u(x, n)
        GROUP BY x ORDER BY max(n) DESC LIMIT 20
    ),
    first_seen_at = least(r.first_seen_at, excluded.first_seen_at),
    last_seen_at = greatest(r.last_seen_at, excluded.last_seen_at)

-- name: set_embeddings
-- A vector is written only if the entity's text is still the text embedded.
UPDATE entities e
SET embedding = t.embedding, embedding_model = %(model)s
FROM unnest(%(ids)s::uuid[], %(hashes)s::bytea[], %(embeddings)b::vector[])
    AS t(id, content_hash, embedding)
WHERE e.tenant_id = %(tenant)s AND e.user_id = %(user)s AND e.id = t.id
  AND e.content_hash = t.content_hash

-- name: list_entities
-- A user's entities, most important first (importance as in entity_profile:
-- 0.6 from mentions, 0.4 from recency), narrowed to those mentioned under an
-- agent / in a session, and to types, when asked.
SELECT {columns}
FROM entities e
WHERE e.tenant_id = %(tenant)s AND e.user_id = %(user)s
  AND (%(types)s::text[] IS NULL OR e.type = ANY (%(types)s::text[]))
  AND (%(agent)s::text IS NULL AND %(session)s::text IS NULL OR EXISTS (
      SELECT FROM entity_mentions x
      WHERE x.tenant_id = %(tenant)s AND x.user_id = %(user)s AND x.entity_id = e.id
        AND (%(agent)s::text IS NULL OR x.agent_id = %(agent)s)
        AND (%(session)s::text IS NULL OR x.session_id = %(session)s)))
ORDER BY 0.6 * (1 - exp(-e.mention_count / 10.0))
         + 0.4 * power(0.5, greatest(extract(epoch FROM now() - e.last_seen_at), 0)
                            / 86400.0 / %(half_life_days)s) DESC,
         e.last_seen_at DESC, e.id
LIMIT %(limit)s OFFSET %(offset)s

-- name: entities_by_ids
SELECT {columns} FROM entities e
WHERE e.tenant_id = %(tenant)s AND e.user_id = %(user)s AND e.id = ANY (%(ids)s::uuid[])

-- name: relations_of
-- Relations touching any of the given entities, strongest first.
SELECT r.id, r.subject_id, r.predicate, r.object_id, r.confidence, r.mention_count,
       r.evidence, r.source_message_ids, r.first_seen_at, r.last_seen_at,
       s.name AS subject, o.name AS object
FROM entity_relations r
JOIN entities s ON s.tenant_id = r.tenant_id AND s.user_id = r.user_id AND s.id = r.subject_id
JOIN entities o ON o.tenant_id = r.tenant_id AND o.user_id = r.user_id AND o.id = r.object_id
WHERE r.tenant_id = %(tenant)s AND r.user_id = %(user)s
  AND (r.subject_id = ANY (%(ids)s::uuid[]) OR r.object_id = ANY (%(ids)s::uuid[]))
  AND (%(predicate)s::text IS NULL OR r.predicate = %(predicate)s)
ORDER BY r.confidence DESC, r.mention_count DESC, r.last_seen_at DESC, r.id
LIMIT %(limit)s

-- name: add_alias
INSERT INTO entity_aliases (tenant_id, user_id, alias_key, alias, entity_id)
VALUES (%(tenant)s, %(user)s, %(alias_key)s, %(alias)s, %(entity_id)s)
ON CONFLICT (tenant_id, user_id, alias_key) DO UPDATE SET alias_key = excluded.alias_key
RETURNING entity_id

-- name: delete_entity
-- The entity with its relations, aliases and mentions (their foreign keys are
-- checked at commit, so delete_user can also take the tables in any order).
WITH relations AS (
    DELETE FROM entity_relations
    WHERE tenant_id = %(tenant)s AND user_id = %(user)s
      AND (subject_id = %(id)s OR object_id = %(id)s)
),
aliases AS (
    DELETE FROM entity_aliases
    WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND entity_id = %(id)s
),
mentions AS (
    DELETE FROM entity_mentions
    WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND entity_id = %(id)s
)
DELETE FROM entities WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND id = %(id)s
RETURNING id

-- name: analytics_totals
SELECT
    (SELECT count(*) FROM entities WHERE tenant_id = %(tenant)s AND user_id = %(user)s)
        AS total_entities,
    (SELECT coalesce(sum(mention_count), 0) FROM entities
     WHERE tenant_id = %(tenant)s AND user_id = %(user)s) AS total_mentions,
    (SELECT count(*) FROM entity_relations WHERE tenant_id = %(tenant)s AND user_id = %(user)s)
        AS total_relations,
    (SELECT count(*) FROM entity_aliases WHERE tenant_id = %(tenant)s AND user_id = %(user)s)
        AS total_aliases,
    (SELECT count(DISTINCT session_id) FROM entity_mentions
     WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND session_id <> '') AS sessions,
    (SELECT min(first_seen_at) FROM entities WHERE tenant_id = %(tenant)s AND user_id = %(user)s)
        AS first_seen_at,
    (SELECT max(last_seen_at) FROM entities WHERE tenant_id = %(tenant)s AND user_id = %(user)s)
        AS last_seen_at

-- name: analytics_by_type
SELECT type AS key, count(*) AS n FROM entities
WHERE tenant_id = %(tenant)s AND user_id = %(user)s
GROUP BY type ORDER BY n DESC, type

-- name: analytics_by_predicate
SELECT predicate AS key, count(*) AS n FROM entity_relations
WHERE tenant_id = %(tenant)s AND user_id = %(user)s
GROUP BY predicate ORDER BY n DESC, predicate

-- name: recent_entities
SELECT {columns} FROM entities e
WHERE e.tenant_id = %(tenant)s AND e.user_id = %(user)s
ORDER BY e.last_seen_at DESC, e.id
LIMIT %(limit)s

-- name: top_by_mentions
SELECT {columns} FROM entities e
WHERE e.tenant_id = %(tenant)s AND e.user_id = %(user)s
ORDER BY e.mention_count DESC, e.last_seen_at DESC, e.id
LIMIT %(limit)s
