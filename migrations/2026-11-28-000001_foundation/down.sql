DROP FUNCTION og_login_lookup(text);
DROP TABLE idempotency_keys, api_keys, refresh_tokens, sessions, grid_assignments, role_assignments,
    users, departments, grids, communities, streets, districts;
DROP FUNCTION og_streets(), og_district_wide(), og_principal(), og_api_key(), og_session(), og_user(),
    og_district(), og_setting_uuid(text);
