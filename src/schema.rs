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

diesel::joinable!(auth_sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> auth_sessions (session_id));
diesel::allow_tables_to_appear_in_same_query!(users, auth_sessions, refresh_tokens, login_failures);
