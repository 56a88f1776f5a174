-- Tenancy: the domain tree, accounts, users, sessions, projects.
CREATE TABLE domains (
    id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    name TEXT NOT NULL,
    parent_id TEXT,
    path TEXT NOT NULL,
    level INTEGER NOT NULL,
    network_domain TEXT,
    created BIGINT NOT NULL
);
CREATE UNIQUE INDEX domains_parent_name ON domains (parent_id, name);
CREATE UNIQUE INDEX domains_path ON domains (path);

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    name TEXT NOT NULL,
    account_type INTEGER NOT NULL,
    domain_id TEXT NOT NULL,
    state TEXT NOT NULL,
    network_domain TEXT,
    project_id TEXT,
    created BIGINT NOT NULL
);
CREATE UNIQUE INDEX accounts_domain_name ON accounts (domain_id, name);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    username TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    email TEXT,
    firstname TEXT,
    lastname TEXT,
    timezone TEXT,
    state TEXT NOT NULL,
    api_key TEXT,
    secret_key_enc TEXT,
    created BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_domain_username ON users (domain_id, username);
CREATE UNIQUE INDEX users_api_key ON users (api_key);

CREATE TABLE sessions (
    key_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    created BIGINT NOT NULL,
    expires BIGINT NOT NULL
);

CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    name TEXT NOT NULL,
    display_text TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    project_account_id TEXT NOT NULL,
    owner_account_id TEXT NOT NULL,
    state TEXT NOT NULL,
    created BIGINT NOT NULL
);
CREATE UNIQUE INDEX projects_domain_name ON projects (domain_id, name);

CREATE TABLE project_members (
    project_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (project_id, account_id)
);

-- Global settings that differ from their defaults.
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT,
    updated BIGINT NOT NULL
);

-- Async jobs. `lease_owner`/`lease_until` let a runner claim a job and another take it over
-- when the first dies.
CREATE TABLE async_jobs (
    id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    command TEXT NOT NULL,
    cmd_class TEXT NOT NULL,
    user_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    params TEXT NOT NULL,
    status INTEGER NOT NULL,
    result_code INTEGER NOT NULL,
    result TEXT,
    instance_type TEXT,
    instance_id TEXT,
    management_server_id TEXT,
    lease_until BIGINT,
    attempts INTEGER NOT NULL,
    created BIGINT NOT NULL,
    completed BIGINT
);
CREATE INDEX async_jobs_status ON async_jobs (status, seq);
CREATE INDEX async_jobs_account ON async_jobs (account_id, seq);

-- The Kubernetes version catalog.
CREATE TABLE kubernetes_versions (
    id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    name TEXT NOT NULL,
    semantic_version TEXT NOT NULL,
    iso_id TEXT,
    zone_id TEXT,
    arch TEXT NOT NULL,
    state TEXT NOT NULL,
    min_cpu INTEGER NOT NULL,
    min_memory INTEGER NOT NULL,
    direct_download INTEGER NOT NULL,
    created BIGINT NOT NULL,
    removed BIGINT
);
CREATE INDEX kubernetes_versions_seq ON kubernetes_versions (removed, seq);

-- Clusters: only what the version catalog needs to refuse deleting a version in use. The
-- lifecycle work extends this table.
CREATE TABLE kubernetes_clusters (
    id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    name TEXT NOT NULL,
    kubernetes_version_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    state TEXT NOT NULL,
    created BIGINT NOT NULL,
    removed BIGINT
);
CREATE INDEX kubernetes_clusters_version ON kubernetes_clusters (kubernetes_version_id, removed)
