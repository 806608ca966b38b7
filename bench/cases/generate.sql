-- Two million cases with their history for the case benchmarks, generated
-- inside PostgreSQL (as the owner) on a city database made by
-- bench/city/generate.sh. psql variables: :district (uuid), :cases (count).
--
-- Each case gets the events, clocks and rating its status implies: 60 %
-- closed (file, accept, dispatch, sign, submit, verify, resolve, rate), 20 %
-- in progress, 10 % dispatched, 10 % just received; filed over the last year,
-- with time-ordered ids as the API makes them.

\set ON_ERROR_STOP on
SELECT set_config('app.district_id', :'district', false);

CREATE TEMP TABLE t_grids AS
SELECT row_number() OVER (ORDER BY id) AS n, street_id, id, community_id FROM grids;
SELECT count(*) AS grid_count FROM t_grids \gset
CREATE TEMP TABLE t_cats AS
SELECT row_number() OVER (ORDER BY code) AS n, id, tier FROM case_categories
WHERE district_id = :'district'::uuid AND code LIKE '__.__';
SELECT count(*) AS cat_count FROM t_cats \gset

-- A UUID whose first 48 bits are the millisecond timestamp, like UUIDv7.
CREATE FUNCTION pg_temp.time_uuid(ts timestamptz) RETURNS uuid LANGUAGE sql AS $$
    SELECT encode(overlay(uuid_send(gen_random_uuid())
        PLACING substring(int8send(floor(extract(epoch FROM ts) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 'hex')::uuid
$$;

CREATE TEMP TABLE t_cases AS
SELECT pg_temp.time_uuid(s.created_at) AS id, g.street_id, g.community_id, g.id AS grid_id,
       c.id AS category_id, c.tier, s.created_at,
       CASE WHEN s.r < 0.6 THEN 'closed' WHEN s.r < 0.8 THEN 'in_progress'
            WHEN s.r < 0.9 THEN 'dispatched' ELSE 'received' END AS status
FROM (SELECT i, random() AS r, now() - random() * interval '365 days' AS created_at,
             1 + (i % :grid_count) AS gn, 1 + ((i / 7) % :cat_count) AS cn
      FROM generate_series(1, :cases) i) s
JOIN t_grids g ON g.n = s.gn
JOIN t_cats c ON c.n = s.cn;

INSERT INTO cases (street_id, id, district_id, community_id, grid_id, channel, category_id, tier, title,
                   description, status, resolved_at, closed_at, created_at, updated_at)
SELECT street_id, id, :'district'::uuid, community_id, grid_id,
       (ARRAY['face_to_face', 'suggestion_box', 'patrol', 'hotline'])[1 + (random() * 3)::int],
       category_id, tier, '基准事项', '基准诉求描述', status,
       CASE WHEN status = 'closed' THEN created_at + interval '7 hours' END,
       CASE WHEN status = 'closed' THEN created_at + interval '8 hours' END,
       created_at, created_at + interval '8 hours'
FROM t_cases ORDER BY id;

-- The steps each status implies, in order.
CREATE TEMP TABLE t_steps (status text, seq int, step text, from_status text, to_status text);
INSERT INTO t_steps VALUES
    ('received', 1, 'file', NULL, 'received'),
    ('dispatched', 1, 'file', NULL, 'received'), ('dispatched', 2, 'accept', 'received', 'accepted'),
    ('dispatched', 3, 'dispatch', 'accepted', 'dispatched'),
    ('in_progress', 1, 'file', NULL, 'received'), ('in_progress', 2, 'accept', 'received', 'accepted'),
    ('in_progress', 3, 'dispatch', 'accepted', 'dispatched'), ('in_progress', 4, 'sign', 'dispatched', 'in_progress'),
    ('closed', 1, 'file', NULL, 'received'), ('closed', 2, 'accept', 'received', 'accepted'),
    ('closed', 3, 'dispatch', 'accepted', 'dispatched'), ('closed', 4, 'sign', 'dispatched', 'in_progress'),
    ('closed', 5, 'submit_result', 'in_progress', 'result_submitted'),
    ('closed', 6, 'verify', 'result_submitted', 'verified'), ('closed', 7, 'resolve', 'verified', 'resolved'),
    ('closed', 8, 'rate', 'resolved', 'closed');

INSERT INTO case_events (street_id, id, case_id, seq, step, from_status, to_status, actor_id, actor_kind, at)
SELECT c.street_id, gen_random_uuid(), c.id, s.seq, s.step, s.from_status, s.to_status,
       '00000000-0000-0000-0000-000000000001'::uuid, 'user', c.created_at + s.seq * interval '1 hour'
FROM t_cases c JOIN t_steps s ON s.status = c.status;

-- First response (stopped on dispatch) and resolution (stopped on resolve).
INSERT INTO case_clocks (street_id, id, case_id, kind, name, basis, budget_minutes, started_at,
                         warn_50_at, warn_75_at, due_at, stopped_at, outcome)
SELECT street_id, gen_random_uuid(), id, 'response', '首次响应', 'working', 60, created_at,
       created_at + interval '30 minutes', created_at + interval '45 minutes', created_at + interval '1 hour',
       CASE WHEN status <> 'received' THEN created_at + interval '3 hours' END,
       CASE WHEN status <> 'received' THEN (CASE WHEN random() < 0.8 THEN 'met' ELSE 'breached' END) END
FROM t_cases;
INSERT INTO case_clocks (street_id, id, case_id, kind, name, basis, budget_minutes, started_at,
                         warn_50_at, warn_75_at, due_at, stopped_at, outcome)
SELECT street_id, gen_random_uuid(), id, 'resolution', '办结', 'calendar', 10080, created_at,
       created_at + interval '3.5 days', created_at + interval '5.25 days', created_at + interval '7 days',
       CASE WHEN status = 'closed' THEN created_at + interval '7 hours' END,
       CASE WHEN status = 'closed' THEN 'met' END
FROM t_cases;

INSERT INTO case_ratings (street_id, case_id, cycle, score, rated_by, rated_by_kind, rated_at)
SELECT street_id, id, 0, (ARRAY[10, 10, 10, 8, 8, 6, 3])[1 + (random() * 6)::int],
       '00000000-0000-0000-0000-000000000001'::uuid, 'user', created_at + interval '8 hours'
FROM t_cases WHERE status = 'closed';

ANALYZE;
SELECT (SELECT count(*) FROM cases) AS cases, (SELECT count(*) FROM case_events) AS events,
       (SELECT count(*) FROM case_clocks) AS clocks, (SELECT count(*) FROM case_ratings) AS ratings;
