-- City-scale data for the grid-package benchmarks, generated inside
-- PostgreSQL (as the owner) for speed. Run by bench/city/generate.sh after
-- `onegrid migrate` and `onegrid bootstrap` (which seeds the built-in ledger
-- types); psql variables: :district (uuid), :district_code (6 digits),
-- :scale (1.0 = 100 streets, 10,500 grids, 1.05 M households, 3.15 M
-- residents, ~10 M ledger records).
--
-- Residents get birth dates and genders but no sealed ID numbers or phones:
-- those need the deployment's field keys and go through the API; the
-- benchmarks query ledgers, ages and grids, which these rows exercise fully.

\set ON_ERROR_STOP on
SELECT set_config('app.district_id', :'district', false);
SELECT greatest(1, round(100 * :scale))::int AS streets \gset
SELECT greatest(1, round(15 * least(:scale * 100, 1)))::int AS communities_per_street \gset

CREATE TEMP TABLE t_streets AS
SELECT gen_random_uuid() AS id, s AS n, :'district_code' || lpad(s::text, 3, '0') AS code
FROM generate_series(1, :streets) s;
INSERT INTO streets (id, district_id, code, name)
SELECT id, :'district'::uuid, code, '基准街道' || n FROM t_streets;

CREATE TEMP TABLE t_communities AS
SELECT gen_random_uuid() AS id, s.id AS street_id, s.code || lpad(c::text, 3, '0') AS code, c AS n
FROM t_streets s, generate_series(1, :communities_per_street) c;
INSERT INTO communities (street_id, id, code, name)
SELECT street_id, id, code, '基准社区' || code FROM t_communities;

CREATE TEMP TABLE t_grids AS
SELECT gen_random_uuid() AS id, c.street_id, c.id AS community_id, c.code || lpad(g::text, 3, '0') AS code
FROM t_communities c, generate_series(1, 7) g;
INSERT INTO grids (street_id, id, community_id, code, name, target_households)
SELECT street_id, id, community_id, code, '网格' || code, 100 FROM t_grids;

-- About 100 households of 3 residents per grid.
CREATE TEMP TABLE t_households AS
SELECT gen_random_uuid() AS id, g.street_id, g.id AS grid_id
FROM t_grids g, generate_series(1, 100) h;
INSERT INTO households (street_id, id, grid_id) SELECT street_id, id, grid_id FROM t_households;

INSERT INTO residents (street_id, id, grid_id, household_id, relation, name, gender, birth_date)
SELECT h.street_id, gen_random_uuid(), h.grid_id, h.id,
       CASE m WHEN 1 THEN 'head' WHEN 2 THEN 'spouse' ELSE 'child' END,
       '居民' || substr(md5(random()::text), 1, 6),
       CASE WHEN random() < 0.5 THEN 'male' ELSE 'female' END,
       date '1930-01-01' + (random() * 33000)::int
FROM t_households h, generate_series(1, 3) m;

-- Ledger records: veterans (8 % of residents), disabled (4 %), elderly living
-- alone (over-75s, 30 %), party members (12 %), dogs (10 %), low income (6 % of
-- households), garages and organisations per grid; plus records of the open
-- party-member and dog ledgers for most residents, to reach ~10 M records at scale 1.
CREATE TEMP TABLE t_types AS SELECT code, id FROM ledger_types WHERE district_id = :'district'::uuid AND street_id IS NULL;

INSERT INTO ledger_records (street_id, id, ledger_type_id, grid_id, resident_id, data)
SELECT r.street_id, gen_random_uuid(), t.id, r.grid_id, r.id,
       jsonb_build_object('service_branch', (ARRAY['陆军','海军','空军','火箭军','武警','其他'])[1 + (random() * 5)::int])
FROM residents r JOIN t_types t ON t.code = 'veterans'
WHERE r.street_id IN (SELECT id FROM t_streets) AND random() < 0.08;

INSERT INTO ledger_records (street_id, id, ledger_type_id, grid_id, resident_id, data)
SELECT r.street_id, gen_random_uuid(), t.id, r.grid_id, r.id,
       jsonb_build_object('category', (ARRAY['视力','听力','言语','肢体','智力','精神','多重'])[1 + (random() * 6)::int],
                          'grade', (ARRAY['一级','二级','三级','四级'])[1 + (random() * 3)::int])
FROM residents r JOIN t_types t ON t.code = 'disabled'
WHERE r.street_id IN (SELECT id FROM t_streets) AND random() < 0.04;

INSERT INTO ledger_records (street_id, id, ledger_type_id, grid_id, resident_id, data)
SELECT r.street_id, gen_random_uuid(), t.id, r.grid_id, r.id, jsonb_build_object('health', '一般')
FROM residents r JOIN t_types t ON t.code = 'elderly_alone'
WHERE r.street_id IN (SELECT id FROM t_streets) AND r.birth_date < date '1951-01-01' AND random() < 0.3;

INSERT INTO ledger_records (street_id, id, ledger_type_id, grid_id, household_id, data)
SELECT h.street_id, gen_random_uuid(), t.id, h.grid_id, h.id,
       jsonb_build_object('certificate_no', 'DB-' || substr(md5(random()::text), 1, 8), 'monthly_amount', 760, 'since', '2024-01-01')
FROM t_households h JOIN t_types t ON t.code = 'low_income'
WHERE random() < 0.06;

INSERT INTO ledger_records (street_id, id, ledger_type_id, grid_id, resident_id, data)
SELECT r.street_id, gen_random_uuid(), t.id, r.grid_id, r.id,
       CASE t.code WHEN 'party_members' THEN jsonb_build_object('joined_on', '1990-07-01', 'category', '正式党员')
                   ELSE jsonb_build_object('breed', '中华田园犬') END
FROM residents r JOIN t_types t ON t.code IN ('party_members', 'dogs')
WHERE r.street_id IN (SELECT id FROM t_streets) AND random() < 0.95;

INSERT INTO ledger_records (street_id, id, ledger_type_id, grid_id, data)
SELECT g.street_id, gen_random_uuid(), t.id, g.id,
       CASE t.code WHEN 'garages' THEN jsonb_build_object('number', 'G-' || n, 'actual_use', '停车')
                   ELSE jsonb_build_object('name', '商铺' || n, 'kind', '商铺') END
FROM t_grids g JOIN t_types t ON t.code IN ('garages', 'organisations'), generate_series(1, 150) n;

ANALYZE;
SELECT (SELECT count(*) FROM streets) AS streets, (SELECT count(*) FROM grids) AS grids,
       (SELECT count(*) FROM households) AS households, (SELECT count(*) FROM residents) AS residents,
       (SELECT count(*) FROM ledger_records) AS ledger_records;
