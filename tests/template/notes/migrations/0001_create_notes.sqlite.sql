-- The `notes` table of the `notes` domain (entity: models.rs).
CREATE TABLE notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL
);
