-- The `notes` table of the `notes` domain (entity: models.rs).
CREATE TABLE notes (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL
);
