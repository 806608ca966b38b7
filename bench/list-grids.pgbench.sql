-- The transaction of GET /api/v1/communities/{community_id}/grids for a grid
-- worker, statement for statement as captured with log_statement = 'all'
-- (see README.md). pgbench's \set holds numbers only, so the text values come
-- from the command line (run.sh passes them):
--   -D user_id= -D district_id= -D session_id= -D street_var=app.street_ids
--   -D street_ids= -D community_id= -D now= (timestamptz) -D today= (date)
-- One difference: the API binds '' for app.api_key_id; pgbench refuses an
-- empty -D value, so it is a literal here.
\set one 1
\set page 51
BEGIN;
SELECT set_config('app.principal_id', :user_id, true), set_config('app.district_id', :district_id, true), set_config('app.user_id', :user_id, true), set_config('app.session_id', :session_id, true), set_config('app.api_key_id', '', true), set_config('app.now', :now, true);
SELECT "users"."district_id", "users"."disabled" FROM ("sessions" INNER JOIN "users" ON ("users"."id" = "sessions"."user_id")) WHERE (((("sessions"."id" = :session_id) AND ("sessions"."user_id" = :user_id)) AND ("sessions"."revoked_at" IS NULL)) AND ("sessions"."expires_at" > :now)) LIMIT :one;
SELECT "role_assignments"."role", "role_assignments"."scope_kind", "role_assignments"."district_id", "role_assignments"."street_id", "role_assignments"."community_id", "role_assignments"."grid_id", "role_assignments"."department_id" FROM "role_assignments" WHERE ((("role_assignments"."user_id" = :user_id) AND ("role_assignments"."valid_from" <= :today)) AND (("role_assignments"."valid_to" IS NULL) OR ("role_assignments"."valid_to" >= :today)));
SELECT set_config(:street_var, :street_ids, true);
SELECT "communities"."street_id", "communities"."id", "communities"."code", "communities"."name", "communities"."version", "communities"."created_at", "communities"."updated_at" FROM "communities" WHERE ("communities"."id" = :community_id) LIMIT :one;
SELECT "grids"."street_id", "grids"."id", "grids"."community_id", "grids"."code", "grids"."name", "grids"."target_households", "grids"."boundary", "grids"."version", "grids"."created_at", "grids"."updated_at" FROM "grids" WHERE ("grids"."community_id" = :community_id) ORDER BY "grids"."id" LIMIT :page;
COMMIT;
