-- Nothing to add on SQLite: one writer at a time, so changes commit in
-- sequence order and the sequence alone is a gap-free cursor (see
-- src/store/changes.rs; PostgreSQL records each change's transaction).
SELECT 1;
