//! Async jobs: `queryAsyncJobResult` until the job ends, with a growing delay and a deadline.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::client::Client;
use crate::error::ClientError;

/// How to follow a job: the first delay, growing by half each poll up to `max_delay`, until
/// `timeout` has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Polling {
    /// The wait after the first poll.
    pub first_delay: Duration,
    /// The longest wait between polls.
    pub max_delay: Duration,
    /// How long to follow the job before giving up ([`ClientError::JobTimeout`]).
    pub timeout: Duration,
}

impl Polling {
    /// 100 ms growing to 1 s, for `timeout`: quick jobs answer at once, long ones cost one
    /// request a second.
    pub const fn with_timeout(timeout: Duration) -> Polling {
        Polling {
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            timeout,
        }
    }

    /// The same delay every time.
    pub const fn every(delay: Duration, timeout: Duration) -> Polling {
        Polling {
            first_delay: delay,
            max_delay: delay,
            timeout,
        }
    }

    /// The delay after `delay`.
    pub fn next_delay(&self, delay: Duration) -> Duration {
        (delay * 3 / 2).min(self.max_delay)
    }
}

/// Where a job stands, from its `queryAsyncJobResult` object.
#[derive(Debug)]
pub enum JobState {
    /// `jobstatus` 0.
    Pending,
    /// `jobstatus` 1: its `jobresult`.
    Succeeded(Value),
    /// `jobstatus` 2: [`ClientError::JobFailed`] with the result's code and text.
    Failed(ClientError),
}

impl JobState {
    /// The result of an ended job; `None` while it is pending.
    pub fn outcome(self) -> Option<Result<Value, ClientError>> {
        match self {
            JobState::Pending => None,
            JobState::Succeeded(result) => Some(Ok(result)),
            JobState::Failed(e) => Some(Err(e)),
        }
    }

    /// Reads a `queryAsyncJobResult` object.
    pub fn of(job_id: &str, job: &Value) -> JobState {
        let result = job.get("jobresult").cloned().unwrap_or(Value::Null);
        match job.get("jobstatus").and_then(Value::as_i64) {
            Some(1) => JobState::Succeeded(result),
            Some(2) => JobState::Failed(ClientError::JobFailed {
                job_id: job_id.to_string(),
                errorcode: result
                    .get("errorcode")
                    .and_then(Value::as_i64)
                    .unwrap_or(530),
                errortext: result
                    .get("errortext")
                    .and_then(Value::as_str)
                    .unwrap_or("no error text")
                    .to_string(),
            }),
            _ => JobState::Pending,
        }
    }
}

impl Client {
    /// One `queryAsyncJobResult`: the job object.
    pub async fn query_job(&self, job_id: &str) -> Result<Value, ClientError> {
        self.call_value("queryAsyncJobResult", &[("jobid", job_id)])
            .await
    }

    /// Polls until the job has ended, successfully or not, and returns its object.
    pub async fn finished_job(
        &self,
        job_id: &str,
        polling: &Polling,
    ) -> Result<Value, ClientError> {
        self.follow(job_id, polling).await.map(|(job, _)| job)
    }

    /// Polls until the job has ended; its `jobresult`, or [`ClientError::JobFailed`].
    pub async fn wait_job(&self, job_id: &str, polling: &Polling) -> Result<Value, ClientError> {
        self.follow(job_id, polling).await?.1
    }

    /// The ended job's object and outcome.
    async fn follow(
        &self,
        job_id: &str,
        polling: &Polling,
    ) -> Result<(Value, Result<Value, ClientError>), ClientError> {
        let started = Instant::now();
        let mut delay = polling.first_delay;
        loop {
            let job = self.query_job(job_id).await?;
            if let Some(outcome) = JobState::of(job_id, &job).outcome() {
                return Ok((job, outcome));
            }
            let waited = started.elapsed();
            if waited >= polling.timeout {
                return Err(ClientError::JobTimeout {
                    job_id: job_id.to_string(),
                    waited,
                });
            }
            tokio::time::sleep(delay.min(polling.timeout - waited)).await;
            delay = polling.next_delay(delay);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_failed_job_carries_its_code_and_text() {
        let job =
            json!({"jobstatus": 2, "jobresult": {"errorcode": 533, "errortext": "no capacity"}});
        match JobState::of("j1", &job) {
            JobState::Failed(ClientError::JobFailed {
                job_id,
                errorcode,
                errortext,
            }) => {
                assert_eq!((job_id.as_str(), errorcode), ("j1", 533));
                assert_eq!(errortext, "no capacity");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            JobState::of("j1", &json!({"jobstatus": 0})),
            JobState::Pending
        ));
    }

    #[test]
    fn delays_grow_by_half_up_to_the_limit() {
        let p = Polling::with_timeout(Duration::from_secs(5));
        let d = p.next_delay(p.first_delay);
        assert_eq!(d, Duration::from_millis(150));
        assert_eq!(
            p.next_delay(Duration::from_millis(900)),
            Duration::from_secs(1)
        );
    }
}
