//! The closed sets of words OCOD stores and speaks: statuses, roles, platforms, audience
//! kinds. Each is an enum stored as TEXT (so the schema holds the same words as before) and
//! written in JSON as the same snake_case word; a misspelt status is a compile error.

/// A status word written into a statement as a quoted literal (`in_sql`). Not diesel's
/// `SqlLiteral`: diesel never keeps a statement holding one prepared, since it cannot know
/// the text is fixed. These words are: each statement text is prepared once per
/// connection and cached under its text, as the statements around it are.
#[derive(Debug, Clone, Copy)]
pub struct SqlWord(&'static str);

impl SqlWord {
    /// `word` with its quotes, as the SQL holds it: only from `in_sql`.
    const fn quoted(word: &'static str) -> Self {
        SqlWord(word)
    }
}

impl diesel::expression::Expression for SqlWord {
    type SqlType = diesel::sql_types::Text;
}

impl<DB: diesel::backend::Backend> diesel::query_builder::QueryFragment<DB> for SqlWord {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> diesel::QueryResult<()> {
        out.push_sql(self.0);
        Ok(())
    }
}

// No static ID: a statement holding a word is cached under its SQL text, so each word
// is its own statement.
impl diesel::query_builder::QueryId for SqlWord {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<QS> diesel::expression::SelectableExpression<QS> for SqlWord {}
impl<QS> diesel::expression::AppearsOnTable<QS> for SqlWord {}
impl<GB> diesel::expression::ValidGrouping<GB> for SqlWord {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

/// Declares an enum of words: `as_str`, `parse`, `ALL`, serde as the word, and diesel
/// `ToSql`/`FromSql` as `Text` on every backend (SQLite, PostgreSQL and the run-time
/// choice between them).
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $word:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name { $( $(#[$vmeta])* $variant ),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant ),+ ];

            /// The word stored and sent for this value.
            pub const fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $word ),+ }
            }

            /// The value for exactly this word (no trimming, no case folding).
            pub fn parse(word: &str) -> Option<Self> {
                match word { $( $word => Some($name::$variant), )+ _ => None }
            }

            /// This value written into the statement as a quoted word rather than bound
            /// as a parameter: a test that must match a partial index's WHERE (the
            /// planner proves the index usable from the statement, whatever is bound
            /// later). The words are this closed set's own; nothing from outside reaches
            /// the SQL, and each word is one statement text, kept prepared as any other.
            pub const fn in_sql(self) -> $crate::domain::SqlWord {
                $crate::domain::SqlWord::quoted(match self { $( $name::$variant => concat!("'", $word, "'") ),+ })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let word = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&word).ok_or_else(|| {
                    serde::de::Error::unknown_variant(&word, &[ $( $word ),+ ])
                })
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
                self.as_str().to_sql(out)
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let word = String::from_sql(bytes)?;
                $name::parse(&word).ok_or_else(|| {
                    format!(concat!("unknown ", stringify!($name), " {:?} in the database"), word)
                        .into()
                })
            }
        }
    };
}

text_enum! {
    /// Where a person stands in a course session.
    pub enum EnrollmentStatus {
        Confirmed => "confirmed",
        Waitlisted => "waitlisted",
        Cancelled => "cancelled",
        Attended => "attended",
        NoShow => "no_show",
    }
}

impl EnrollmentStatus {
    /// What staff may record: attended or no-show.
    pub fn is_attendance(self) -> bool {
        matches!(self, EnrollmentStatus::Attended | EnrollmentStatus::NoShow)
    }
}

text_enum! {
    /// A course session's state. Only `scheduled` and `cancelled` are stored; `completed`
    /// is what a scheduled session is once it has ended (see `CourseSession::status_at`).
    pub enum SessionStatus {
        Scheduled => "scheduled",
        Cancelled => "cancelled",
        Completed => "completed",
    }
}

text_enum! {
    /// Whether a center is open.
    pub enum CenterStatus {
        Active => "active",
        UnderConstruction => "under_construction",
        Closed => "closed",
    }
}

text_enum! {
    /// What a user may do. Admins can do everything staff can; staff only at their centers.
    pub enum Role {
        Resident => "resident",
        Staff => "staff",
        Admin => "admin",
    }
}

text_enum! {
    /// The language a person reads: Thai (the default) or English.
    #[derive(Default)]
    pub enum Locale {
        #[default]
        Th => "th",
        En => "en",
    }
}

text_enum! {
    /// The kind of device an FCM token belongs to.
    pub enum Platform {
        Android => "android",
        Ios => "ios",
        Web => "web",
    }
}

text_enum! {
    /// Who a broadcast is for.
    pub enum AudienceKind {
        All => "all",
        Province => "province",
        Center => "center",
        Course => "course",
        Session => "session",
    }
}

text_enum! {
    /// A notification's state: waiting for its time, in the inbox (delivered), or not
    /// sent at all (cancelled by a change, dropped as too late).
    pub enum NotificationStatus {
        Scheduled => "scheduled",
        Delivered => "delivered",
        Cancelled => "cancelled",
        Dropped => "dropped",
    }
}

text_enum! {
    /// One push of a notification to one device.
    pub enum DeliveryStatus {
        Pending => "pending",
        Leased => "leased",
        Sent => "sent",
        Failed => "failed",
        InvalidToken => "invalid_token",
        Cancelled => "cancelled",
    }
}

text_enum! {
    /// How a delivery reaches a person: FCM to a device, a LINE message, or an SMS.
    pub enum Channel {
        Push => "push",
        Line => "line",
        Sms => "sms",
    }
}

text_enum! {
    /// A broadcast's state.
    pub enum BroadcastStatus {
        Scheduled => "scheduled",
        Sending => "sending",
        Sent => "sent",
        Cancelled => "cancelled",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_parses_back_to_its_value() {
        for s in EnrollmentStatus::ALL {
            assert_eq!(EnrollmentStatus::parse(s.as_str()), Some(*s));
        }
        for s in CenterStatus::ALL {
            assert_eq!(CenterStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(EnrollmentStatus::NoShow.as_str(), "no_show");
        assert_eq!(
            CenterStatus::UnderConstruction.as_str(),
            "under_construction"
        );
        assert_eq!(Role::parse("Admin"), None, "words are exact");
    }

    #[test]
    fn json_carries_the_word() {
        assert_eq!(
            serde_json::to_string(&EnrollmentStatus::NoShow).unwrap(),
            "\"no_show\""
        );
        let role: Role = serde_json::from_str("\"staff\"").unwrap();
        assert_eq!(role, Role::Staff);
        assert!(serde_json::from_str::<Role>("\"root\"").is_err());
    }
}
