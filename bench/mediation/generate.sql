-- Disputes, whistles and summonses for the department-inbox benchmark,
-- generated inside PostgreSQL (as the owner) on a city database made by
-- bench/city/generate.sh. psql variables: :district (uuid), :per_street
-- (whistles in every street), :busy (whistles in the first street).
--
-- Every whistle is on a street-level dispute with two parties and summons
-- the nine panel departments; two thirds of the summonses have been
-- reported in, the rest are open. Time-ordered ids, as the API makes them.

\set ON_ERROR_STOP on
SELECT set_config('app.district_id', :'district', false);

CREATE FUNCTION pg_temp.time_uuid(ts timestamptz) RETURNS uuid LANGUAGE sql AS $$
    SELECT encode(overlay(uuid_send(gen_random_uuid())
        PLACING substring(int8send(floor(extract(epoch FROM ts) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 'hex')::uuid
$$;

-- The panel: nine of the ten default departments, as the API would create it.
INSERT INTO mediation_settings (district_id, panel)
SELECT :'district'::uuid, array_agg(id ORDER BY code) FROM departments
WHERE district_id = :'district'::uuid AND code <> 'education'
ON CONFLICT (district_id) DO NOTHING;

SELECT id AS admin FROM users WHERE username = 'city-admin' \gset

CREATE TEMP TABLE t_streets AS
SELECT row_number() OVER (ORDER BY code) AS n, id FROM streets WHERE district_id = :'district'::uuid;

-- One community and grid per street to hold the disputes.
CREATE TEMP TABLE t_places AS
SELECT DISTINCT ON (s.id) s.n, s.id AS street_id, g.community_id, g.id AS grid_id
FROM t_streets s JOIN grids g ON g.street_id = s.id
ORDER BY s.id, g.id;

CREATE TEMP TABLE t_whistles AS
SELECT p.street_id, p.community_id, p.grid_id,
       now() - random() * interval '30 days' AS at
FROM t_places p
CROSS JOIN LATERAL generate_series(1, CASE WHEN p.n = 1 THEN :busy ELSE :per_street END) i;
ALTER TABLE t_whistles ADD COLUMN dispute_id uuid, ADD COLUMN whistle_id uuid;
UPDATE t_whistles SET dispute_id = pg_temp.time_uuid(at - interval '1 day'), whistle_id = pg_temp.time_uuid(at);

SELECT array_agg(id ORDER BY id) AS panel FROM departments
WHERE district_id = :'district'::uuid AND code <> 'education' \gset

INSERT INTO disputes (street_id, id, district_id, community_id, grid_id, kind, level, status, summary,
                      summoned, created_by, created_at, updated_at)
SELECT street_id, dispute_id, :'district'::uuid, community_id, grid_id, 'property', 'street', 'open',
       '基准纠纷', :'panel'::uuid[], :'admin', at - interval '1 day', at
FROM t_whistles ORDER BY dispute_id;

INSERT INTO dispute_parties (street_id, id, dispute_id, role, kind, name)
SELECT street_id, gen_random_uuid(), dispute_id, r.role, r.kind, r.name
FROM t_whistles, (VALUES ('applicant', 'person', '张某某'), ('respondent', 'organisation', '某物业公司')) r(role, kind, name);

INSERT INTO whistles (street_id, id, district_id, dispute_id, reason, summary, status, department_ids, blown_by, blown_at)
SELECT street_id, whistle_id, :'district'::uuid, dispute_id, 'pressing', '请各部门到场', 'open', :'panel'::uuid[], :'admin', at
FROM t_whistles ORDER BY whistle_id;

INSERT INTO summonses (street_id, id, whistle_id, district_id, department_id, dispute_id, reason,
                       summoned_at, remind_at, deadline_at, state, reported_at)
SELECT street_id, pg_temp.time_uuid(at), whistle_id, :'district'::uuid, department_id, dispute_id, 'pressing',
       at, at + interval '2 hours', at + interval '4 hours',
       CASE WHEN x < 0.67 THEN 'reported_in' ELSE 'summoned' END,
       CASE WHEN x < 0.67 THEN at + x * interval '6 hours' END
FROM (SELECT w.*, d.id AS department_id, random() AS x
      FROM t_whistles w CROSS JOIN departments d
      WHERE d.district_id = :'district'::uuid AND d.code <> 'education') s;

ANALYZE disputes; ANALYZE dispute_parties; ANALYZE whistles; ANALYZE summonses;
SELECT (SELECT count(*) FROM whistles) AS whistles, (SELECT count(*) FROM summonses) AS summonses,
       (SELECT count(*) FROM summonses s JOIN t_places p ON p.street_id = s.street_id AND p.n = 1
         WHERE s.state = 'summoned') AS open_in_the_busy_street;
