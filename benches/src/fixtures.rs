//! The data both servers answer from: one user row, written straight into
//! each server's SQLite file (no registration request, whose Argon2 hash
//! would leave 19 MiB in the allocator before memory is measured), and a
//! token for it signed with the shared key.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sea_orm::{ConnectionTrait, Database};
use serde::Serialize;

use crate::server::SECRET_KEY;

/// The id of the user `GET /users/{id}` reads.
pub(crate) const USER_ID: i64 = 1;

/// Writes the benchmark user into the database at `url`, a SQLite file or
/// a PostgreSQL database (the server created the table when it booted).
pub(crate) async fn seed_user(url: &str) -> Result<(), String> {
    let db = Database::connect(url)
        .await
        .map_err(|e| format!("cannot open {url}: {e}"))?;
    for sql in [
        format!("DELETE FROM users WHERE id = {USER_ID} OR email = 'bench@example.com'"),
        format!(
            "INSERT INTO users (id, name, email, password_hash, roles) \
             VALUES ({USER_ID}, 'Bench User', 'bench@example.com', 'not-a-hash', '[\"user\"]')"
        ),
    ] {
        db.execute_unprepared(&sql)
            .await
            .map_err(|e| format!("cannot seed {url}: {e}"))?;
    }
    db.close()
        .await
        .map_err(|e| format!("cannot close {url}: {e}"))
}

#[derive(Serialize)]
struct Claims<'a> {
    sub: String,
    email: &'a str,
    roles: [&'a str; 1],
    exp: u64,
    iat: u64,
}

/// A token for the benchmark user, as the app's login issues it, valid
/// for a day.
pub(crate) fn token() -> Result<String, String> {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = Claims {
        sub: USER_ID.to_string(),
        email: "bench@example.com",
        roles: ["user"],
        exp: now + 86_400,
        iat: now,
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET_KEY.as_bytes()),
    )
    .map_err(|e| format!("cannot sign a token: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_has_three_parts_and_names_the_user() {
        let token = token().unwrap();
        assert_eq!(token.split('.').count(), 3);
        let mut validation = jsonwebtoken::Validation::new(Algorithm::HS256);
        validation.validate_aud = false;
        let data = jsonwebtoken::decode::<serde_json::Value>(
            &token,
            &jsonwebtoken::DecodingKey::from_secret(SECRET_KEY.as_bytes()),
            &validation,
        )
        .unwrap();
        assert_eq!(data.claims["sub"], "1");
    }
}
