//! `--wait`: follows an async job with `queryAsyncJobResult` until it ends and, for a cluster
//! operation, shows the cluster's state and current step from `listKubernetesClusters` (a
//! spinner on stderr when it is a terminal, one plain line per change otherwise).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use cks_client::{JobState, Polling};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use crate::client::{ApiClient, params};
use crate::error::CliError;

/// What to show while a job runs.
pub struct Watch {
    /// "creating demo".
    pub label: String,
    /// The cluster whose `state`/`step` to show.
    pub cluster_id: Option<String>,
}

/// Where progress goes: a spinner on a terminal, plain lines on anything else.
struct Progress {
    bar: Option<ProgressBar>,
    last: String,
}

impl Progress {
    fn new() -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed}] {msg}") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress {
            bar,
            last: String::new(),
        }
    }

    fn show(&mut self, message: String) {
        if message == self.last {
            return;
        }
        match &self.bar {
            Some(bar) => bar.set_message(message.clone()),
            None => eprintln!("cks: {message}"),
        }
        self.last = message;
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Polls the job until it ends; returns its `jobresult` on success.
pub async fn job(
    client: &ApiClient,
    job_id: &str,
    watch: &Watch,
    timeout: Duration,
) -> Result<Value, CliError> {
    let mut progress = Progress::new();
    let res = follow(client, job_id, watch, timeout, &mut progress).await;
    progress.finish();
    res
}

async fn follow(
    client: &ApiClient,
    job_id: &str,
    watch: &Watch,
    timeout: Duration,
    progress: &mut Progress,
) -> Result<Value, CliError> {
    let started = Instant::now();
    let polling = Polling::with_timeout(timeout);
    let mut delay = polling.first_delay;
    progress.show(format!("{}: job {job_id} submitted", watch.label));
    loop {
        let job = client.inner().query_job(job_id).await?;
        if let Some(outcome) = JobState::of(job_id, &job).outcome() {
            if outcome.is_ok() {
                progress.show(format!("{}: done", watch.label));
            }
            return Ok(outcome?);
        }
        if let Some(id) = &watch.cluster_id {
            // Progress is best effort: a failed look-up must not fail the wait.
            let items = client
                .list(
                    "listKubernetesClusters",
                    &params([("id", id), ("listall", "true")]),
                    "kubernetescluster",
                )
                .await
                .unwrap_or_default();
            if let Some(c) = items.first() {
                let mut message =
                    format!("{}: {}", watch.label, c["state"].as_str().unwrap_or("?"));
                if let Some(step) = c["step"].as_str() {
                    message.push_str(&format!(", step {step}"));
                }
                progress.show(message);
            }
        }
        if started.elapsed() >= timeout {
            return Err(CliError::Timeout {
                job_id: job_id.to_string(),
                seconds: timeout.as_secs(),
            });
        }
        let left = timeout.saturating_sub(started.elapsed());
        tokio::time::sleep(delay.min(left)).await;
        delay = polling.next_delay(delay);
    }
}
