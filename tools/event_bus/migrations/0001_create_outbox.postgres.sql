-- The transactional outbox of the event bus: `bus.publish_in(txn, ..)`
-- writes an event here in the caller's transaction; the relay sends it to
-- the broker once committed and deletes the row once the broker holds it.
CREATE TABLE microcore_outbox (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    topic TEXT NOT NULL,
    envelope TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    error TEXT
);
