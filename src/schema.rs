//! Diesel table definitions shared by both backends. Only portable column types are used
//! (see `migrations/sqlite` and `migrations/postgres`, which must stay in step).

diesel::table! {
    users (id) {
        id -> Text,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        password_hash -> Text,
        display_name -> Text,
        role -> Text,
        locale -> Text,
        home_lat -> Nullable<Double>,
        home_lon -> Nullable<Double>,
        province -> Nullable<Text>,
        quiet_hours_start -> Nullable<Text>,
        quiet_hours_end -> Nullable<Text>,
        reminders_enabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    auth_sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        last_used_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        console_key_hash -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Text,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        login_key -> Text,
        failed_at -> Timestamp,
    }
}

diesel::table! {
    rate_events (id) {
        id -> BigInt,
        bucket -> Text,
        key_hash -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    centers (id) {
        id -> Text,
        code -> Text,
        name_th -> Text,
        name_en -> Text,
        province -> Text,
        district -> Text,
        subdistrict -> Text,
        lat -> Double,
        lon -> Double,
        status -> Text,
        phone -> Nullable<Text>,
        opening_hours -> Nullable<Text>,
        search_text -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    center_staff (center_id, user_id) {
        center_id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    courses (id) {
        id -> Text,
        title_th -> Text,
        title_en -> Text,
        description_th -> Text,
        description_en -> Text,
        category -> Text,
        level -> Text,
        duration_minutes -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    course_sessions (id) {
        id -> Text,
        center_id -> Text,
        course_id -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        capacity -> Integer,
        seats_taken -> Integer,
        waitlist_count -> Integer,
        waitlist_seq -> Integer,
        instructor -> Nullable<Text>,
        room -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    enrollments (id) {
        id -> Text,
        session_id -> Text,
        user_id -> Text,
        status -> Text,
        waitlist_seq -> Nullable<Integer>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        holds_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    idempotency_keys (owner, key) {
        owner -> Text,
        key -> Text,
        request_hash -> Text,
        status_code -> Integer,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    data_versions (name) {
        name -> Text,
        version -> BigInt,
    }
}

diesel::joinable!(auth_sessions -> users (user_id));
diesel::joinable!(center_staff -> centers (center_id));
diesel::joinable!(center_staff -> users (user_id));
diesel::joinable!(course_sessions -> centers (center_id));
diesel::joinable!(course_sessions -> courses (course_id));
diesel::joinable!(enrollments -> course_sessions (session_id));
diesel::joinable!(enrollments -> users (user_id));
diesel::joinable!(refresh_tokens -> auth_sessions (session_id));
diesel::table! {
    otp_codes (id) {
        id -> BigInt,
        phone -> Text,
        code_hash -> Text,
        wrong_tries -> Integer,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        ended_by -> Nullable<Text>,
    }
}

diesel::table! {
    sms_messages (id) {
        id -> BigInt,
        to_phone -> Text,
        body -> Text,
        purpose -> Text,
        status -> Text,
        attempts -> Integer,
        due_at -> Timestamp,
        leased_until -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        provider_id -> Nullable<Text>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    line_links (user_id) {
        user_id -> Text,
        line_user_id -> Text,
        linked_at -> Timestamp,
    }
}

diesel::table! {
    line_link_codes (id) {
        id -> BigInt,
        user_id -> Text,
        code_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    tickets (code) {
        code -> Text,
        enrollment_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    certificates (code) {
        code -> Text,
        enrollment_id -> Text,
        user_id -> Text,
        issued_at -> Timestamp,
    }
}

diesel::table! {
    calendar_feeds (user_id) {
        user_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(tickets -> enrollments (enrollment_id));
diesel::joinable!(certificates -> enrollments (enrollment_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    auth_sessions,
    refresh_tokens,
    login_failures,
    rate_events,
    centers,
    center_staff,
    courses,
    course_sessions,
    enrollments,
    idempotency_keys,
    data_versions,
    devices,
    notifications,
    push_deliveries,
    broadcasts,
    audit_log,
    otp_codes,
    sms_messages,
    line_links,
    line_link_codes,
    tickets,
    certificates,
    calendar_feeds,
);

// The admin report groups enrollments by status together with these.
diesel::allow_columns_to_appear_in_same_group_by_clause!(
    centers::province,
    centers::id,
    centers::name_th,
    courses::id,
    courses::title_th,
    enrollments::status,
);

diesel::table! {
    devices (token) {
        token -> Text,
        user_id -> Text,
        platform -> Text,
        locale -> Nullable<Text>,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        user_id -> Text,
        kind -> Text,
        dedup_key -> Text,
        title -> Text,
        body -> Text,
        data -> Text,
        collapse_key -> Text,
        urgent -> Bool,
        due_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        status -> Text,
        delivered_at -> Nullable<Timestamp>,
        read_at -> Nullable<Timestamp>,
        broadcast_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    broadcasts (id) {
        id -> Text,
        created_by -> Text,
        audience_kind -> Text,
        audience_value -> Nullable<Text>,
        title_th -> Text,
        title_en -> Text,
        body_th -> Text,
        body_en -> Text,
        send_at -> Timestamp,
        status -> Text,
        expanded_until -> Nullable<Text>,
        targeted_users -> BigInt,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    push_deliveries (id) {
        id -> BigInt,
        notification_id -> Text,
        address -> Text,
        status -> Text,
        attempts -> Integer,
        due_at -> Timestamp,
        leased_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        channel -> Text,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        actor_id -> Text,
        action -> Text,
        target_id -> Nullable<Text>,
        center_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(devices -> users (user_id));
diesel::joinable!(notifications -> users (user_id));
diesel::joinable!(push_deliveries -> notifications (notification_id));
