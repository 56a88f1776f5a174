//! `cksd`: the management server binary. It reads its configuration (flags, `CKS_*` environment, file) and
//! hands it to `cksd::run`; everything else lives in the library so tests can start the server in-process.

use anyhow::Context;

/// The API renders many small JSON values per request; glibc's allocator was a third of a
/// list request's time in profiles.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = cksd::Config::load()?;
    let (state, admin) = cksd::open(&config).await?;
    // After open: the simulator's recovery of interrupted work is no crash point.
    cksd::crash::arm_from_env();
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    if let Some(admin) = admin {
        // Only the file holds the secrets: terminals, journals and CI logs keep what is printed.
        println!(
            "Created the root admin (user 'admin', API key {}); its secret key and password are in {} (mode 0600)",
            admin.api_key,
            admin.path.display()
        );
    }
    println!(
        "cksd listening on http://{addr}/client/api (data directory {})",
        config.data_dir.display()
    );
    cksd::serve(listener, state, cksd::shutdown_signal()).await
}
