//! `bench-baseline`: the server the benchmark holds microcore against.
//!
//! Written by hand on axum, tower-http, sea-orm (or sqlx) and jsonwebtoken, the way
//! a careful engineer would write it without a framework, with the same
//! transport features as the example app (request ids, security headers,
//! CORS, body limit, timeout, panic recovery, the JSON envelope on every
//! error, HS256 JWT) and the same SQLite settings. It serves only what the
//! benchmark measures: `GET /ping` and authenticated `GET /users/{user_id}`
//! on the users table of `domains/users/migrations/`, on SQLite or
//! PostgreSQL.
//!
//! Configuration, like the app: `HTTP_HOST`, `HTTP_PORT`, `DATABASE_URL`,
//! `AUTH_SECRET_KEY` (at least 32 bytes), `LOG_LEVEL`; and
//! `BASELINE_LAYERS=separate` to apply the middleware one `Router::layer`
//! at a time, as the framework does (see `layers.rs`); `BASELINE_QUERY=sqlx`
//! for the plain server that reads the user with one sqlx statement instead
//! of sea-orm's entity API (see `database.rs`).

mod auth;
mod config;
mod database;
mod envelope;
mod layers;
mod routes;

use std::process::ExitCode;
use std::sync::Arc;

/// What every handler shares: the pool and the token verifier.
#[derive(Clone)]
struct AppState {
    db: database::Store,
    jwt: Arc<auth::Jwt>,
}

fn main() -> ExitCode {
    let settings = match config::Settings::from_env() {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };
    install_tracing(&settings.log_level);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The same subscriber as the app's log tool: `tracing` to stderr at `info`.
fn install_tracing(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn serve(settings: config::Settings) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(settings.addr)
        .await
        .map_err(|e| {
            format!(
                "cannot listen on {} (HTTP_HOST/HTTP_PORT): {e}",
                settings.addr
            )
        })?;
    let db = database::connect(&settings.database_url, settings.plain).await?;
    let state = AppState {
        db,
        jwt: Arc::new(auth::Jwt::new(&settings.secret_key)),
    };
    let app = layers::apply(routes::router(state), settings.separate_layers);
    tracing::info!(
        "listening on http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(stop_signal())
        .await
        .map_err(|e| format!("http server stopped: {e}"))
}

/// SIGINT or SIGTERM: stop accepting and drain, like the app.
async fn stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
