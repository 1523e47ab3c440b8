-- A random name for this database, made once when it is created (or first
-- migrated), so a start-up snapshot written for one database is never
-- loaded over another (src/register/warm_start.rs).
CREATE TABLE database_identity (
    id  TEXT NOT NULL
);
INSERT INTO database_identity (id) VALUES (lower(hex(randomblob(16))));
