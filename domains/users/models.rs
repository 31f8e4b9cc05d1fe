//! The users domain's table and the shapes its plugins share. Only this
//! domain reads or writes `users`; other domains learn about users from
//! the `user.created` and `user.deleted` events.

use microcore::{Error, Result};
use microcore_db::Db;
use sea_orm::{DbErr, DerivePartialModel, SqlErr};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The `users` table (see `migrations/0001_create_users.*.sql`).
pub mod user {
    use sea_orm::entity::prelude::*;

    /// One row of `users`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        /// Primary key.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// Display name, 1..100 characters.
        pub name: String,
        /// Unique, domain part lower-cased.
        #[sea_orm(unique)]
        pub email: String,
        /// Argon2id PHC string; never leaves the server.
        pub password_hash: String,
        /// JSON array of role names.
        pub roles: String,
    }

    /// No relations: other domains never join on this table.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub use user::Entity as Users;

/// A user as its owner sees it (`/users/me`, registration).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserProfile {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// Roles, `["user"]` from registration.
    pub roles: Vec<String>,
}

/// A user as anyone sees it (lists, `/users/{user_id}`); read on its own,
/// it selects only its three columns.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, DerivePartialModel)]
#[sea_orm(entity = "user::Entity")]
pub struct UserSummary {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
}

impl From<user::Model> for UserSummary {
    fn from(u: user::Model) -> Self {
        Self {
            id: u.id,
            name: u.name,
            email: u.email,
        }
    }
}

impl From<user::Model> for UserProfile {
    fn from(u: user::Model) -> Self {
        Self {
            roles: roles_of(&u.roles),
            id: u.id,
            name: u.name,
            email: u.email,
        }
    }
}

/// The roles column, as a list (an unreadable column counts as no roles).
pub fn roles_of(column: &str) -> Vec<String> {
    serde_json::from_str(column).unwrap_or_default()
}

/// The e-mail as stored: the domain part lower-cased, the local part kept
/// (`Ada.L@Example.COM` → `Ada.L@example.com`).
pub fn normalize_email(email: &str) -> String {
    match email.trim().rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_lowercase()),
        None => email.trim().to_string(),
    }
}

/// A unique-constraint violation on insert or update means the e-mail is taken.
pub fn email_taken(err: DbErr) -> Error {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => Error::business("Email already in use"),
        _ => Error::from(err),
    }
}

/// The user with this id as anyone sees it, or 404 with `message`: only
/// the three columns the summary shows are read and decoded (not the
/// password hash and the roles), by a statement the db tool builds once.
pub async fn find_summary(db: &Db, id: i64, message: &'static str) -> Result<UserSummary> {
    db.find_by_id::<Users, UserSummary>(id)
        .await?
        .ok_or_else(|| Error::not_found(message))
}

/// The user with this id, or 404 with `message`.
pub async fn find_user(db: &Db, id: i64, message: &'static str) -> Result<user::Model> {
    db.find_by_id::<Users, user::Model>(id)
        .await?
        .ok_or_else(|| Error::not_found(message))
}
