DROP TABLE microcore_outbox;
