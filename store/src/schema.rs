// @generated automatically by Diesel CLI.

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
    appointment_slots (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        community_id -> Uuid,
        grid_id -> Nullable<Uuid>,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        capacity -> Int2,
        booked -> Int2,
        off_hours -> Bool,
        place -> Nullable<Text>,
        created_by -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Uuid,
        at -> Timestamptz,
        district_id -> Uuid,
        street_id -> Nullable<Uuid>,
        actor_id -> Uuid,
        actor_kind -> Text,
        action -> Text,
        subject_type -> Text,
        subject_id -> Nullable<Uuid>,
        field -> Nullable<Text>,
        purpose -> Nullable<Text>,
        request_id -> Nullable<Text>,
        details -> Jsonb,
    }
}

diesel::table! {
    break_glass_grants (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        user_id -> Uuid,
        ledger_type_id -> Uuid,
        community_id -> Uuid,
        reason -> Text,
        granted_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    buildings (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        grid_id -> Uuid,
        name -> Text,
        address -> Nullable<Text>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    calendar_days (district_id, day) {
        district_id -> Uuid,
        day -> Date,
        kind -> Text,
        name -> Text,
    }
}

diesel::table! {
    calendar_warnings (district_id, year) {
        district_id -> Uuid,
        year -> Int4,
        warned_at -> Timestamptz,
    }
}

diesel::table! {
    case_appointments (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        case_id -> Uuid,
        slot_id -> Uuid,
        booked_by -> Uuid,
        booked_at -> Timestamptz,
        cancelled_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    case_attachments (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        case_id -> Uuid,
        file_name -> Text,
        content_type -> Text,
        size_bytes -> Int4,
        sha256 -> Bytea,
        uploaded_by -> Uuid,
        uploaded_at -> Timestamptz,
    }
}

diesel::table! {
    case_categories (id) {
        id -> Uuid,
        district_id -> Uuid,
        code -> Text,
        name -> Text,
        tier -> Text,
        fields -> Jsonb,
        resolution_basis -> Nullable<Text>,
        resolution_minutes -> Nullable<Int4>,
        milestones -> Jsonb,
        active -> Bool,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    case_clock_alerts (street_id, clock_id, stage) {
        street_id -> Uuid,
        clock_id -> Uuid,
        stage -> Text,
        case_id -> Uuid,
        fired_at -> Timestamptz,
        escalated_to -> Nullable<Int2>,
        notified -> Int4,
    }
}

diesel::table! {
    case_clocks (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        case_id -> Uuid,
        kind -> Text,
        name -> Text,
        cycle -> Int2,
        basis -> Text,
        budget_minutes -> Int4,
        started_at -> Timestamptz,
        paused_at -> Nullable<Timestamptz>,
        paused_minutes -> Int4,
        extended_minutes -> Int4,
        warn_50_at -> Timestamptz,
        warn_75_at -> Timestamptz,
        due_at -> Timestamptz,
        stopped_at -> Nullable<Timestamptz>,
        outcome -> Nullable<Text>,
    }
}

diesel::table! {
    case_events (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        case_id -> Uuid,
        seq -> Int4,
        step -> Text,
        from_status -> Nullable<Text>,
        to_status -> Text,
        actor_id -> Uuid,
        actor_kind -> Text,
        reason -> Nullable<Text>,
        data -> Jsonb,
        at -> Timestamptz,
    }
}

diesel::table! {
    case_links (street_id, case_id, subject_type, subject_id) {
        street_id -> Uuid,
        case_id -> Uuid,
        subject_type -> Text,
        subject_id -> Uuid,
    }
}

diesel::table! {
    case_ratings (street_id, case_id, cycle) {
        street_id -> Uuid,
        case_id -> Uuid,
        cycle -> Int2,
        score -> Int2,
        comment -> Nullable<Text>,
        rated_by -> Uuid,
        rated_by_kind -> Text,
        rated_at -> Timestamptz,
    }
}

diesel::table! {
    case_reporters (street_id, case_id) {
        street_id -> Uuid,
        case_id -> Uuid,
        name_enc -> Nullable<Bytea>,
        phone_enc -> Nullable<Bytea>,
    }
}

diesel::table! {
    case_routes (street_id, case_id, department_id) {
        street_id -> Uuid,
        case_id -> Uuid,
        department_id -> Uuid,
        routed_at -> Timestamptz,
    }
}

diesel::table! {
    cases (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        number -> Int8,
        district_id -> Uuid,
        community_id -> Uuid,
        grid_id -> Uuid,
        parent_id -> Nullable<Uuid>,
        kind -> Text,
        channel -> Text,
        category_id -> Uuid,
        tier -> Text,
        title -> Text,
        description -> Text,
        extra -> Jsonb,
        address -> Nullable<Text>,
        lon -> Nullable<Float8>,
        lat -> Nullable<Float8>,
        service_mode -> Nullable<Text>,
        status -> Text,
        paused -> Bool,
        extension_requested -> Bool,
        park_requested -> Bool,
        escalation_level -> Int2,
        assignee_user_id -> Nullable<Uuid>,
        assignee_department_id -> Nullable<Uuid>,
        resident_id -> Nullable<Uuid>,
        rework_cycle -> Int2,
        resolved_at -> Nullable<Timestamptz>,
        closed_at -> Nullable<Timestamptz>,
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
    dispute_documents (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        dispute_id -> Uuid,
        file_name -> Text,
        content_type -> Text,
        size_bytes -> Int4,
        sha256 -> Bytea,
        uploaded_by -> Uuid,
        uploaded_at -> Timestamptz,
    }
}

diesel::table! {
    dispute_events (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        dispute_id -> Uuid,
        step -> Text,
        from_level -> Nullable<Text>,
        to_level -> Nullable<Text>,
        reason -> Nullable<Text>,
        actor_id -> Uuid,
        data -> Jsonb,
        at -> Timestamptz,
    }
}

diesel::table! {
    dispute_follow_ups (street_id, dispute_id, seq) {
        street_id -> Uuid,
        dispute_id -> Uuid,
        seq -> Int2,
        due_on -> Date,
        done_at -> Nullable<Timestamptz>,
        done_by -> Nullable<Uuid>,
        notes -> Nullable<Text>,
    }
}

diesel::table! {
    dispute_parties (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        dispute_id -> Uuid,
        role -> Text,
        kind -> Text,
        resident_id -> Nullable<Uuid>,
        name -> Text,
        phone_sealed -> Nullable<Bytea>,
    }
}

diesel::table! {
    disputes (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        district_id -> Uuid,
        community_id -> Uuid,
        grid_id -> Nullable<Uuid>,
        number -> Int8,
        kind -> Text,
        level -> Text,
        status -> Text,
        summary -> Text,
        case_id -> Nullable<Uuid>,
        settled_level -> Nullable<Text>,
        referral -> Nullable<Text>,
        outcome_at -> Nullable<Timestamptz>,
        summoned -> Array<Uuid>,
        created_by -> Uuid,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    districts (id) {
        id -> Uuid,
        code -> Text,
        name -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    dwellings (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        unit_id -> Uuid,
        grid_id -> Uuid,
        number -> Text,
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
    households (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        grid_id -> Uuid,
        dwelling_id -> Nullable<Uuid>,
        address -> Nullable<Text>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
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

diesel::table! {
    jobs (id) {
        id -> Uuid,
        queue -> Text,
        kind -> Text,
        unique_key -> Nullable<Text>,
        district_id -> Nullable<Uuid>,
        street_id -> Nullable<Uuid>,
        payload -> Jsonb,
        state -> Text,
        attempt -> Int4,
        max_attempts -> Int4,
        run_at -> Timestamptz,
        lease_token -> Nullable<Uuid>,
        leased_by -> Nullable<Text>,
        lease_expires_at -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        started_at -> Nullable<Timestamptz>,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    ledger_record_versions (street_id, record_id, version) {
        street_id -> Uuid,
        record_id -> Uuid,
        version -> Int4,
        change -> Text,
        data -> Jsonb,
        status -> Text,
        retired_reason -> Nullable<Text>,
        grid_id -> Uuid,
        actor_id -> Uuid,
        at -> Timestamptz,
    }
}

diesel::table! {
    ledger_records (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        ledger_type_id -> Uuid,
        grid_id -> Uuid,
        resident_id -> Nullable<Uuid>,
        household_id -> Nullable<Uuid>,
        data -> Jsonb,
        status -> Text,
        retired_reason -> Nullable<Text>,
        verified_at -> Timestamptz,
        verified_by -> Nullable<Uuid>,
        version -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    ledger_stale_digests (street_id, user_id, digest_for) {
        street_id -> Uuid,
        user_id -> Uuid,
        digest_for -> Date,
        stale -> Int4,
        notification_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    ledger_types (id) {
        id -> Uuid,
        district_id -> Uuid,
        street_id -> Nullable<Uuid>,
        community_id -> Nullable<Uuid>,
        code -> Text,
        name -> Text,
        description -> Nullable<Text>,
        subject -> Text,
        sensitivity -> Text,
        mask_name -> Bool,
        verify_period_days -> Int4,
        fields -> Jsonb,
        built_in -> Bool,
        active -> Bool,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    mediation_sessions (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        dispute_id -> Uuid,
        held_at -> Timestamptz,
        place -> Text,
        level -> Text,
        mediators -> Array<Text>,
        department_ids -> Array<Uuid>,
        notes -> Nullable<Text>,
        result -> Text,
        referral -> Nullable<Text>,
        agreement_document_id -> Nullable<Uuid>,
        recorded_by -> Uuid,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    mediation_settings (district_id) {
        district_id -> Uuid,
        emergency_minutes -> Int4,
        other_hours -> Int4,
        panel -> Array<Uuid>,
        version -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    meeting_agenda_items (street_id, meeting_id, seq) {
        street_id -> Uuid,
        meeting_id -> Uuid,
        seq -> Int4,
        kind -> Text,
        case_id -> Nullable<Uuid>,
        finding_id -> Nullable<Uuid>,
        title -> Text,
    }
}

diesel::table! {
    meeting_attendees (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        meeting_id -> Uuid,
        kind -> Text,
        name -> Text,
        member_unit_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    meeting_items (street_id, case_id) {
        street_id -> Uuid,
        meeting_id -> Uuid,
        case_id -> Uuid,
        owner_id -> Uuid,
        due_on -> Date,
    }
}

diesel::table! {
    member_units (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        community_id -> Uuid,
        name -> Text,
        kind -> Text,
        contact_name -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    needs_meetings (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        district_id -> Uuid,
        community_id -> Uuid,
        scheduled_for -> Timestamptz,
        status -> Text,
        previous_id -> Nullable<Uuid>,
        minutes -> Nullable<Text>,
        held_at -> Nullable<Timestamptz>,
        closed_at -> Nullable<Timestamptz>,
        version -> Int4,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    notifications (id) {
        id -> Uuid,
        user_id -> Uuid,
        district_id -> Uuid,
        street_id -> Nullable<Uuid>,
        kind -> Text,
        title -> Text,
        body -> Jsonb,
        created_at -> Timestamptz,
        read_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    patrol_findings (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        log_id -> Uuid,
        description -> Text,
        lon -> Nullable<Float8>,
        lat -> Nullable<Float8>,
        address -> Nullable<Text>,
        case_id -> Nullable<Uuid>,
        at -> Timestamptz,
    }
}

diesel::table! {
    patrol_logs (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        district_id -> Uuid,
        community_id -> Uuid,
        grid_id -> Uuid,
        worker_id -> Uuid,
        day -> Date,
        check_in_at -> Nullable<Timestamptz>,
        check_out_at -> Nullable<Timestamptz>,
        track -> Nullable<Jsonb>,
        notes -> Nullable<Text>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    patrol_missing (street_id, worker_id, day) {
        street_id -> Uuid,
        worker_id -> Uuid,
        day -> Date,
        grid_id -> Uuid,
        flagged_at -> Timestamptz,
    }
}

diesel::table! {
    patrol_photos (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        finding_id -> Uuid,
        file_name -> Text,
        content_type -> Text,
        size_bytes -> Int4,
        sha256 -> Bytea,
        uploaded_by -> Uuid,
        uploaded_at -> Timestamptz,
    }
}

diesel::table! {
    patrol_visits (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        log_id -> Uuid,
        household_id -> Uuid,
        purpose -> Text,
        service_mode -> Nullable<Text>,
        notes -> Nullable<Text>,
        next_visit_on -> Nullable<Date>,
        at -> Timestamptz,
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
    report_back_ratings (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        meeting_id -> Uuid,
        case_id -> Uuid,
        rater -> Text,
        score -> Int2,
        at -> Timestamptz,
    }
}

diesel::table! {
    resident_moves (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        resident_id -> Uuid,
        from_grid_id -> Uuid,
        to_grid_id -> Uuid,
        reason -> Nullable<Text>,
        moved_by -> Uuid,
        moved_at -> Timestamptz,
    }
}

diesel::table! {
    residents (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        grid_id -> Uuid,
        household_id -> Nullable<Uuid>,
        relation -> Nullable<Text>,
        name -> Text,
        gender -> Nullable<Text>,
        birth_date -> Nullable<Date>,
        id_number_enc -> Nullable<Bytea>,
        id_number_bidx -> Nullable<Bytea>,
        phone_enc -> Nullable<Bytea>,
        phone_bidx -> Nullable<Bytea>,
        tags -> Array<Text>,
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
    saved_queries (id) {
        id -> Uuid,
        district_id -> Uuid,
        street_id -> Nullable<Uuid>,
        name -> Text,
        query -> Jsonb,
        created_by -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    schedule_fires (schedule_id, fire_for) {
        id -> Uuid,
        schedule_id -> Uuid,
        fire_for -> Timestamptz,
        fired_at -> Timestamptz,
        outcome -> Text,
        job_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    schedules (id) {
        id -> Uuid,
        district_id -> Uuid,
        street_id -> Nullable<Uuid>,
        community_id -> Nullable<Uuid>,
        key -> Text,
        kind -> Text,
        name -> Text,
        rule -> Jsonb,
        misfire -> Text,
        payload -> Jsonb,
        enabled -> Bool,
        next_run_at -> Nullable<Timestamptz>,
        last_fire_for -> Nullable<Timestamptz>,
        last_fired_at -> Nullable<Timestamptz>,
        fires -> Int8,
        misfires -> Int8,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        lead_minutes -> Int4,
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
    sla_tiers (district_id, tier) {
        district_id -> Uuid,
        tier -> Text,
        response_basis -> Text,
        response_minutes -> Int4,
        resolution_basis -> Text,
        resolution_minutes -> Int4,
        version -> Int4,
        updated_at -> Timestamptz,
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
    summons_actions (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        summons_id -> Uuid,
        step -> Text,
        note -> Nullable<Text>,
        actor_id -> Uuid,
        at -> Timestamptz,
    }
}

diesel::table! {
    summonses (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        whistle_id -> Uuid,
        district_id -> Uuid,
        department_id -> Uuid,
        dispute_id -> Nullable<Uuid>,
        case_id -> Nullable<Uuid>,
        reason -> Text,
        summoned_at -> Timestamptz,
        remind_at -> Timestamptz,
        deadline_at -> Timestamptz,
        state -> Text,
        reported_at -> Nullable<Timestamptz>,
        reported_by -> Nullable<Uuid>,
        on_site_at -> Nullable<Timestamptz>,
        done_at -> Nullable<Timestamptz>,
        reminded_at -> Nullable<Timestamptz>,
        overdue_at -> Nullable<Timestamptz>,
        escalated_at -> Nullable<Timestamptz>,
        rating -> Nullable<Int2>,
        rating_comment -> Nullable<Text>,
        rated_by -> Nullable<Uuid>,
        rated_at -> Nullable<Timestamptz>,
        version -> Int4,
    }
}

diesel::table! {
    units (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        building_id -> Uuid,
        name -> Text,
        created_at -> Timestamptz,
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
    webhook_attempts (id) {
        id -> Uuid,
        delivery_id -> Uuid,
        attempt -> Int4,
        at -> Timestamptz,
        status -> Nullable<Int2>,
        duration_ms -> Int4,
        error -> Nullable<Text>,
        response -> Nullable<Text>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Uuid,
        endpoint_id -> Uuid,
        event_id -> Uuid,
        district_id -> Uuid,
        street_id -> Uuid,
        state -> Text,
        attempts -> Int4,
        replays -> Int4,
        next_attempt_at -> Nullable<Timestamptz>,
        last_status -> Nullable<Int2>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Uuid,
        district_id -> Uuid,
        street_id -> Nullable<Uuid>,
        url -> Text,
        description -> Nullable<Text>,
        event_types -> Array<Text>,
        secret_sealed -> Bytea,
        previous_secret_sealed -> Nullable<Bytea>,
        previous_secret_expires_at -> Nullable<Timestamptz>,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        failing_since -> Nullable<Timestamptz>,
        version -> Int4,
        created_by -> Uuid,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_events (id) {
        id -> Uuid,
        district_id -> Uuid,
        street_id -> Uuid,
        #[sql_name = "type"]
        type_ -> Text,
        payload -> Jsonb,
        occurred_at -> Timestamptz,
    }
}

diesel::table! {
    whistles (street_id, id) {
        street_id -> Uuid,
        id -> Uuid,
        district_id -> Uuid,
        dispute_id -> Nullable<Uuid>,
        case_id -> Nullable<Uuid>,
        reason -> Text,
        summary -> Text,
        status -> Text,
        department_ids -> Array<Uuid>,
        blown_by -> Uuid,
        blown_at -> Timestamptz,
        closed_at -> Nullable<Timestamptz>,
        version -> Int4,
    }
}

diesel::joinable!(api_keys -> districts (district_id));
diesel::joinable!(api_keys -> streets (street_id));
diesel::joinable!(api_keys -> users (created_by));
diesel::joinable!(audit_log -> districts (district_id));
diesel::joinable!(audit_log -> streets (street_id));
diesel::joinable!(break_glass_grants -> ledger_types (ledger_type_id));
diesel::joinable!(break_glass_grants -> users (user_id));
diesel::joinable!(calendar_days -> districts (district_id));
diesel::joinable!(calendar_warnings -> districts (district_id));
diesel::joinable!(case_categories -> districts (district_id));
diesel::joinable!(cases -> districts (district_id));
diesel::joinable!(cases -> users (assignee_user_id));
diesel::joinable!(communities -> streets (street_id));
diesel::joinable!(departments -> districts (district_id));
diesel::joinable!(dispute_follow_ups -> users (done_by));
diesel::joinable!(disputes -> districts (district_id));
diesel::joinable!(disputes -> users (created_by));
diesel::joinable!(jobs -> districts (district_id));
diesel::joinable!(jobs -> streets (street_id));
diesel::joinable!(ledger_record_versions -> users (actor_id));
diesel::joinable!(ledger_records -> ledger_types (ledger_type_id));
diesel::joinable!(ledger_stale_digests -> streets (street_id));
diesel::joinable!(ledger_stale_digests -> users (user_id));
diesel::joinable!(ledger_types -> districts (district_id));
diesel::joinable!(ledger_types -> streets (street_id));
diesel::joinable!(mediation_sessions -> users (recorded_by));
diesel::joinable!(mediation_settings -> districts (district_id));
diesel::joinable!(meeting_items -> users (owner_id));
diesel::joinable!(needs_meetings -> districts (district_id));
diesel::joinable!(notifications -> districts (district_id));
diesel::joinable!(notifications -> streets (street_id));
diesel::joinable!(notifications -> users (user_id));
diesel::joinable!(patrol_logs -> districts (district_id));
diesel::joinable!(patrol_logs -> users (worker_id));
diesel::joinable!(patrol_missing -> streets (street_id));
diesel::joinable!(patrol_missing -> users (worker_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(resident_moves -> users (moved_by));
diesel::joinable!(role_assignments -> districts (district_id));
diesel::joinable!(role_assignments -> streets (street_id));
diesel::joinable!(saved_queries -> districts (district_id));
diesel::joinable!(saved_queries -> streets (street_id));
diesel::joinable!(saved_queries -> users (created_by));
diesel::joinable!(schedule_fires -> schedules (schedule_id));
diesel::joinable!(schedules -> districts (district_id));
diesel::joinable!(schedules -> streets (street_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(sla_tiers -> districts (district_id));
diesel::joinable!(streets -> districts (district_id));
diesel::joinable!(users -> districts (district_id));
diesel::joinable!(users -> streets (street_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));
diesel::joinable!(webhook_deliveries -> districts (district_id));
diesel::joinable!(webhook_deliveries -> streets (street_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_deliveries -> webhook_events (event_id));
diesel::joinable!(webhook_endpoints -> districts (district_id));
diesel::joinable!(webhook_endpoints -> streets (street_id));
diesel::joinable!(webhook_endpoints -> users (created_by));
diesel::joinable!(webhook_events -> districts (district_id));
diesel::joinable!(webhook_events -> streets (street_id));
diesel::joinable!(whistles -> districts (district_id));
diesel::joinable!(whistles -> users (blown_by));

diesel::allow_tables_to_appear_in_same_query!(
    api_keys,
    appointment_slots,
    audit_log,
    break_glass_grants,
    buildings,
    calendar_days,
    calendar_warnings,
    case_appointments,
    case_attachments,
    case_categories,
    case_clock_alerts,
    case_clocks,
    case_events,
    case_links,
    case_ratings,
    case_reporters,
    case_routes,
    cases,
    communities,
    departments,
    dispute_documents,
    dispute_events,
    dispute_follow_ups,
    dispute_parties,
    disputes,
    districts,
    dwellings,
    grid_assignments,
    grids,
    households,
    idempotency_keys,
    jobs,
    ledger_record_versions,
    ledger_records,
    ledger_stale_digests,
    ledger_types,
    mediation_sessions,
    mediation_settings,
    meeting_agenda_items,
    meeting_attendees,
    meeting_items,
    member_units,
    needs_meetings,
    notifications,
    patrol_findings,
    patrol_logs,
    patrol_missing,
    patrol_photos,
    patrol_visits,
    refresh_tokens,
    report_back_ratings,
    resident_moves,
    residents,
    role_assignments,
    saved_queries,
    schedule_fires,
    schedules,
    sessions,
    sla_tiers,
    streets,
    summons_actions,
    summonses,
    units,
    users,
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
    webhook_events,
    whistles,
);
