//! Persistence for cks over sqlx's Any driver: SQLite (default) and PostgreSQL with one SQL dialect.
