-- Consecutive failed password logins per user, and until when (seconds since the epoch) the user
-- may not log in with a password after too many. In the database, so a lock holds on every
-- instance sharing it and across restarts.
ALTER TABLE users ADD COLUMN login_failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until BIGINT NOT NULL DEFAULT 0
