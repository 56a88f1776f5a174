-- Registered CNI configurations (CloudStack keeps them as user data flagged "for CKS"). The
-- owner is kept as JSON beside its indexed ids, as for clusters. Deletes remove the row.
CREATE TABLE cni_configurations (
    id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    name TEXT NOT NULL,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    project_id TEXT,
    owner TEXT NOT NULL,
    user_data TEXT NOT NULL,
    params TEXT,
    created BIGINT NOT NULL
);
CREATE UNIQUE INDEX cni_configurations_name ON cni_configurations (account_id, name);
CREATE INDEX cni_configurations_seq ON cni_configurations (seq)
