-- A deleted account: gone from lists, sign-in and administration, but its
-- row stays so that sessions and the audit log still name who it was, and
-- its username stays reserved so no one else can appear under it later.
ALTER TABLE users ADD COLUMN deleted_at BIGINT;
