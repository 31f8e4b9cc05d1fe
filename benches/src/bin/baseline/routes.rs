//! The two routes, on the users table the example app owns. The user is
//! read with sea-orm's entity API or, in the plain server, with one sqlx
//! statement (one handler each, chosen when the router is built).

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use sea_orm::entity::prelude::*;
use sea_orm::sqlx;
use serde::Serialize;

use crate::auth::AuthUser;
use crate::database::Store;
use crate::{AppState, envelope};

/// The `users` table, as `domains/users/models.rs` maps it.
mod user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub(crate) struct Model {
        #[sea_orm(primary_key)]
        pub(crate) id: i64,
        pub(crate) name: String,
        #[sea_orm(unique)]
        pub(crate) email: String,
        pub(crate) password_hash: String,
        pub(crate) roles: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub(crate) enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub(crate) fn router(state: AppState) -> Router {
    let users = match state.db {
        Store::SeaOrm(_) => get(get_user),
        Store::Sqlite(_) => get(get_user_sqlite),
        Store::Postgres(_) => get(get_user_postgres),
    };
    Router::new()
        .route("/ping", get(ping))
        .route("/users/{user_id}", users)
        .fallback(not_found)
        .with_state(state)
}

#[derive(Serialize)]
struct Pong {
    status: &'static str,
    message: &'static str,
}

async fn ping() -> Response {
    envelope::ok(&Pong {
        status: "ok",
        message: "pong",
    })
}

#[derive(Serialize)]
struct UserSummary {
    id: i64,
    name: String,
    email: String,
}

fn bad_id() -> Response {
    envelope::error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "user_id: expected an integer",
    )
}

/// sea-orm's entity API, as the app's plugin reads the user.
async fn get_user(
    State(state): State<AppState>,
    _user: AuthUser,
    id: Result<Path<i64>, PathRejection>,
) -> Response {
    let Ok(Path(id)) = id else {
        return bad_id();
    };
    let Store::SeaOrm(db) = &state.db else {
        return unavailable();
    };
    match user::Entity::find_by_id(id).one(db).await {
        Ok(Some(u)) => envelope::ok(&UserSummary {
            id: u.id,
            name: u.name,
            email: u.email,
        }),
        Ok(None) => envelope::error(StatusCode::NOT_FOUND, "User not found"),
        Err(DbErr::ConnectionAcquire(_) | DbErr::Conn(_)) => {
            tracing::warn!("database unavailable");
            unavailable()
        }
        Err(e) => {
            tracing::error!("request failed: {e}");
            envelope::error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
        }
    }
}

/// The plain server's read on SQLite: one statement, prepared once per
/// connection (sqlx caches statements with bound arguments), three columns.
async fn get_user_sqlite(
    State(state): State<AppState>,
    _user: AuthUser,
    id: Result<Path<i64>, PathRejection>,
) -> Response {
    let Ok(Path(id)) = id else {
        return bad_id();
    };
    let Store::Sqlite(pool) = &state.db else {
        return unavailable();
    };
    let found = sqlx::query_as::<_, (i64, String, String)>(
        "SELECT id, name, email FROM users WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(pool)
    .await;
    answer(found)
}

/// The plain server's read on PostgreSQL, likewise.
async fn get_user_postgres(
    State(state): State<AppState>,
    _user: AuthUser,
    id: Result<Path<i64>, PathRejection>,
) -> Response {
    let Ok(Path(id)) = id else {
        return bad_id();
    };
    let Store::Postgres(pool) = &state.db else {
        return unavailable();
    };
    let found = sqlx::query_as::<_, (i64, String, String)>(
        "SELECT id, name, email FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await;
    answer(found)
}

fn answer(found: Result<Option<(i64, String, String)>, sqlx::Error>) -> Response {
    match found {
        Ok(Some((id, name, email))) => envelope::ok(&UserSummary { id, name, email }),
        Ok(None) => envelope::error(StatusCode::NOT_FOUND, "User not found"),
        Err(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)) => {
            tracing::warn!("database unavailable");
            unavailable()
        }
        Err(e) => {
            tracing::error!("request failed: {e}");
            envelope::error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
        }
    }
}

fn unavailable() -> Response {
    envelope::error(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable")
}

async fn not_found() -> Response {
    envelope::error(StatusCode::NOT_FOUND, "Not found")
}
