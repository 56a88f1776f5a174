-- Named leases for work that one instance at a time must do (the state scanner and its garbage
-- collector) when several cksd share this database. A holder renews before `until`; when it
-- dies, another instance takes the lease once `until` has passed.
CREATE TABLE service_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until BIGINT NOT NULL
)
