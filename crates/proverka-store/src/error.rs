//! [`StoreError`]: what went wrong with the store, and whether waiting helps.

/// Why the store could not do something. Messages name the store's place (a path, a host),
/// never a password.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store cannot be reached now (connection refused or lost, a timeout, the database
    /// busy past the wait): nothing paid may go out until it answers again; it recovers by
    /// itself.
    #[error("the store of record is unreachable ({0}): no paid call is made until it answers")]
    Unavailable(String),
    /// The database was written by a newer proverka (its schema version is ahead of this
    /// binary's): refusing rather than misreading money state.
    #[error(
        "the store's schema is version {found}, newer than this proverka knows ({known}): upgrade proverka"
    )]
    TooNew {
        /// The database's version.
        found: i64,
        /// The newest this binary knows.
        known: i64,
    },
    /// The location is not usable (a path that cannot be opened, a URL that is not one).
    #[error("the store at {location}: {message}")]
    Location {
        /// Where (path, or URL without its password).
        location: String,
        /// Why.
        message: String,
    },
    /// Anything else the database refused.
    #[error("the store refused: {0}")]
    Other(String),
}

impl StoreError {
    /// Whether waiting (and asking again) may help: the store is unreachable now.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        use sqlx::Error as E;
        match &e {
            E::Io(_)
            | E::PoolTimedOut
            | E::PoolClosed
            | E::Tls(_)
            | E::WorkerCrashed
            | E::Protocol(_) => Self::Unavailable(e.to_string()),
            E::Database(db) => {
                let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
                // PostgreSQL: class 08 (connection), 57P01-57P03 (shut down, cannot connect
                // now), 53300 (too many connections). SQLite: 5 (busy), 6 (locked), 10 (I/O).
                let unreachable = code.starts_with("08")
                    || code.starts_with("57P")
                    || code == "53300"
                    || matches!(code.as_str(), "5" | "6" | "10" | "261" | "517");
                if unreachable {
                    Self::Unavailable(db.message().to_owned())
                } else {
                    Self::Other(db.message().to_owned())
                }
            }
            _ => Self::Other(e.to_string()),
        }
    }
}
