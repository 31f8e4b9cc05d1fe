//! What a migration is, and the linker slice that carries every migration
//! file of the app inside the binary: the domains crate's build script
//! embeds each `domains/<domain>/migrations/*.sql` file here, so a deployed
//! binary needs no migrations folder beside it.

use sea_orm::DbBackend;

/// One migration of one domain, with its SQL for each backend.
///
/// The domains crate's build script writes one per file (or per pair of
/// per-backend files) with [`migration_entry!`](crate::migration_entry);
/// tests build them as plain values.
///
/// ```
/// use microcore_db::Migration;
/// use sea_orm::DbBackend;
///
/// const CREATE_NOTES: Migration = Migration::shared(
///     "notes",
///     "0001_create_notes",
///     "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);",
///     Some("DROP TABLE notes;"),
/// );
/// assert_eq!(CREATE_NOTES.up_file(DbBackend::Postgres), "domains/notes/migrations/0001_create_notes.sql");
/// assert_eq!(CREATE_NOTES.down_file(DbBackend::Sqlite), "domains/notes/migrations/0001_create_notes.down.sql");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// The domain that owns it (`users`).
    pub domain: &'static str,
    /// The file name without its extensions (`0001_create_users`); migrations
    /// of a domain run in the order of their names.
    pub name: &'static str,
    /// SQL applied on SQLite.
    pub up_sqlite: &'static str,
    /// SQL applied on PostgreSQL.
    pub up_postgres: &'static str,
    /// SQL that reverts it on SQLite, if there is a down file.
    pub down_sqlite: Option<&'static str>,
    /// SQL that reverts it on PostgreSQL, if there is a down file.
    pub down_postgres: Option<&'static str>,
    /// The up file relative to the workspace, for messages; when each
    /// backend has its own file, `<backend>` stands for `sqlite` or
    /// `postgres` (`domains/users/migrations/0002_x.<backend>.sql`). Empty:
    /// `domains/<domain>/migrations/<name>.sql`.
    pub file: &'static str,
}

/// The placeholder in [`Migration::file`] of a migration with one file per backend.
const BACKEND: &str = "<backend>";

impl Migration {
    /// A migration whose SQL works on both backends, as if read from
    /// `domains/<domain>/migrations/<name>.sql`.
    pub const fn shared(
        domain: &'static str,
        name: &'static str,
        up: &'static str,
        down: Option<&'static str>,
    ) -> Self {
        Self {
            domain,
            name,
            up_sqlite: up,
            up_postgres: up,
            down_sqlite: down,
            down_postgres: down,
            file: "",
        }
    }

    /// The SQL that applies it on `backend`.
    pub fn up(&self, backend: DbBackend) -> &'static str {
        match backend {
            DbBackend::Postgres => self.up_postgres,
            _ => self.up_sqlite,
        }
    }

    /// The SQL that reverts it on `backend`, if it has a down file.
    pub fn down(&self, backend: DbBackend) -> Option<&'static str> {
        match backend {
            DbBackend::Postgres => self.down_postgres,
            _ => self.down_sqlite,
        }
    }

    /// The file the up SQL of `backend` comes from, relative to the workspace.
    pub fn up_file(&self, backend: DbBackend) -> String {
        let file = if self.file.is_empty() {
            format!("domains/{}/migrations/{}.sql", self.domain, self.name)
        } else {
            self.file.to_string()
        };
        file.replace(BACKEND, backend_name(backend))
    }

    /// The shared down file of this migration (`<name>.down.sql` beside the
    /// up file), as a help message suggests it; a backend may have its own
    /// `<name>.<backend>.down.sql` instead.
    pub fn down_file(&self, backend: DbBackend) -> String {
        let up = self.up_file(backend);
        let dir = up.rfind('/').map_or("", |i| &up[..=i]);
        format!("{dir}{}.down.sql", self.name)
    }

    /// `<domain>/<name>`, the migration's name in messages.
    pub fn id(&self) -> String {
        format!("{}/{}", self.domain, self.name)
    }

    /// The checksum recorded when it is applied on `backend`; a changed
    /// file no longer matches it.
    ///
    /// Line endings are ignored, so a checkout with CRLF endings does not
    /// count as a change.
    ///
    /// ```
    /// use microcore_db::Migration;
    /// use sea_orm::DatabaseBackend::Sqlite;
    /// let a = Migration::shared("d", "0001_a", "SELECT 1;\n", None);
    /// let b = Migration::shared("d", "0001_a", "SELECT 1;\r\n", None);
    /// let c = Migration::shared("d", "0001_a", "SELECT 2;\n", None);
    /// assert_eq!(a.checksum(Sqlite), b.checksum(Sqlite));
    /// assert_ne!(a.checksum(Sqlite), c.checksum(Sqlite));
    /// ```
    pub fn checksum(&self, backend: DbBackend) -> String {
        checksum(self.up(backend))
    }
}

/// `sqlite` or `postgres`, as in per-backend file names.
pub(crate) fn backend_name(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "postgres",
        DbBackend::MySql => "mysql",
        _ => "sqlite",
    }
}

/// FNV-1a (64 bit) of the SQL without carriage returns: it detects an
/// edited file, which is all it is for, and needs no dependency.
fn checksum(sql: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in sql.bytes().filter(|b| *b != b'\r') {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("fnv1a64:{hash:016x}")
}

/// Every migration linked into the binary: the domains crate's build script
/// adds one entry per migration file.
///
/// ```
/// let count = microcore_db::MIGRATIONS.len();
/// # let _ = count;
/// ```
#[microcore::__private::linkme::distributed_slice]
#[linkme(crate = microcore::__private::linkme)]
pub static MIGRATIONS: [Migration];

/// Adds one [`Migration`] to [`MIGRATIONS`]: what the domains crate's build
/// script writes for each migration file, with `include_str!` of its
/// absolute path so the SQL is embedded in the binary.
///
/// ```
/// microcore_db::migration_entry! {
///     domain: "notes",
///     name: "0001_create_notes",
///     file: "domains/notes/migrations/0001_create_notes.sql",
///     up_sqlite: "CREATE TABLE notes (id INTEGER PRIMARY KEY);",
///     up_postgres: "CREATE TABLE notes (id INTEGER PRIMARY KEY);",
///     down_sqlite: None,
///     down_postgres: None,
/// }
///
/// assert!(microcore_db::MIGRATIONS.iter().any(|m| m.name == "0001_create_notes"));
/// ```
#[macro_export]
macro_rules! migration_entry {
    ($($field:ident: $value:expr),* $(,)?) => {
        const _: () = {
            #[$crate::__private::linkme::distributed_slice($crate::MIGRATIONS)]
            #[linkme(crate = $crate::__private::linkme)]
            static MIGRATION: $crate::Migration = $crate::Migration { $($field: $value),* };
        };
    };
}
