//! Typed IDs: a user's ID is not a center's, so `assign_staff(center, user)` cannot take
//! its arguments swapped. Each is an opaque string (a UUID v7 for rows OCOD creates),
//! stored as TEXT and written in JSON as the plain string.
//!
//! The right order compiles:
//! ```
//! # use ocod::domain::{CenterId, UserId};
//! # fn check(conn: &mut ocod::db::DbConn) -> diesel::QueryResult<bool> {
//! let (center, user) = (CenterId::generate(), UserId::generate());
//! ocod::models::centers::is_staff_of(conn, &user, &center)
//! # }
//! ```
//! and the arguments swapped do not:
//! ```compile_fail
//! # use ocod::domain::{CenterId, UserId};
//! # fn check(conn: &mut ocod::db::DbConn) -> diesel::QueryResult<bool> {
//! let (center, user) = (CenterId::generate(), UserId::generate());
//! ocod::models::centers::is_staff_of(conn, &center, &user)
//! # }
//! ```

/// Declares an ID newtype with diesel `Text` mapping on every backend, serde as a plain
/// string, and `Deref` to `str` for reading (never for making one from a string).
macro_rules! text_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[serde(transparent)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub struct $name(String);

        impl $name {
            /// A new, unique, time-ordered ID.
            pub fn generate() -> Self {
                $name(uuid::Uuid::now_v7().to_string())
            }

            /// An ID as a client or the database gave it; an unknown one simply finds
            /// nothing.
            pub fn from_raw(raw: impl Into<String>) -> Self {
                $name(raw.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                self.0.as_str().to_sql(out)
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                Ok($name(String::from_sql(bytes)?))
            }
        }
    };
}

text_id!(
    /// A person's account.
    UserId
);
text_id!(
    /// A Community Digital Center.
    CenterId
);
text_id!(
    /// A course session (a course held at a center at a time).
    CourseSessionId
);
text_id!(
    /// A person's enrollment in a course session.
    EnrollmentId
);
text_id!(
    /// A course of the catalogue.
    CourseId
);
