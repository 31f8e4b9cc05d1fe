//! The two routes, on the users table the example app owns.

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use sea_orm::entity::prelude::*;
use serde::Serialize;

use crate::auth::AuthUser;
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
    Router::new()
        .route("/ping", get(ping))
        .route("/users/{user_id}", get(get_user))
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

async fn get_user(
    State(state): State<AppState>,
    _user: AuthUser,
    id: Result<Path<i64>, PathRejection>,
) -> Response {
    let Ok(Path(id)) = id else {
        return envelope::error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "user_id: expected an integer",
        );
    };
    match user::Entity::find_by_id(id).one(&state.db).await {
        Ok(Some(u)) => envelope::ok(&UserSummary {
            id: u.id,
            name: u.name,
            email: u.email,
        }),
        Ok(None) => envelope::error(StatusCode::NOT_FOUND, "User not found"),
        Err(DbErr::ConnectionAcquire(_) | DbErr::Conn(_)) => {
            tracing::warn!("database unavailable");
            envelope::error(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable")
        }
        Err(e) => {
            tracing::error!("request failed: {e}");
            envelope::error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
        }
    }
}

async fn not_found() -> Response {
    envelope::error(StatusCode::NOT_FOUND, "Not found")
}
