//! Diesel table definitions, written to match `migrations/`.

diesel::table! {
    districts (id) {
        id -> Uuid,
        code -> Text,
        name -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    streets (id) {
        id -> Uuid,
        district_id -> Uuid,
        code -> Text,
        name -> Text,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    communities (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        code -> Text,
        name -> Text,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    grids (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        community_id -> Uuid,
        code -> Text,
        name -> Text,
        target_households -> Nullable<Int4>,
        boundary -> Nullable<Jsonb>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    departments (id) {
        id -> Uuid,
        district_id -> Uuid,
        code -> Text,
        name -> Text,
        active -> Bool,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        district_id -> Uuid,
        street_id -> Nullable<Uuid>,
        username -> Text,
        display_name -> Text,
        password_hash -> Text,
        disabled -> Bool,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    role_assignments (id) {
        id -> Uuid,
        user_id -> Uuid,
        district_id -> Uuid,
        role -> Text,
        scope_kind -> Text,
        street_id -> Nullable<Uuid>,
        community_id -> Nullable<Uuid>,
        grid_id -> Nullable<Uuid>,
        department_id -> Nullable<Uuid>,
        valid_from -> Date,
        valid_to -> Nullable<Date>,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    grid_assignments (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        grid_id -> Uuid,
        user_id -> Uuid,
        kind -> Text,
        district_id -> Uuid,
        department_id -> Nullable<Uuid>,
        duty -> Nullable<Text>,
        valid_from -> Date,
        valid_to -> Nullable<Date>,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    sessions (id) {
        id -> Uuid,
        user_id -> Uuid,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        revoked_reason -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Bytea,
        session_id -> Uuid,
        created_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Uuid,
        district_id -> Uuid,
        name -> Text,
        role -> Text,
        scope_kind -> Text,
        street_id -> Nullable<Uuid>,
        community_id -> Nullable<Uuid>,
        grid_id -> Nullable<Uuid>,
        department_id -> Nullable<Uuid>,
        secret_hash -> Bytea,
        created_by -> Uuid,
        created_at -> Timestamptz,
        expires_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    idempotency_keys (principal_id, key) {
        principal_id -> Uuid,
        key -> Text,
        request_hash -> Bytea,
        status -> Int2,
        response -> Jsonb,
        location -> Nullable<Text>,
        etag -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(grids -> streets (street_id));
diesel::allow_tables_to_appear_in_same_query!(
    districts,
    streets,
    communities,
    grids,
    departments,
    users,
    role_assignments,
    grid_assignments,
    sessions,
    refresh_tokens,
    api_keys,
    idempotency_keys,
);
