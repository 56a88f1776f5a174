//! Crash points for the crash-resume test (`tests/crash_resume.rs`).
//!
//! With `CKS_CRASH_AT=N` in the environment at start, the process counts the points it passes
//! and SIGKILLs itself at the Nth: nothing is flushed, no destructor runs, as when a machine
//! dies. The points sit where a crash is most likely to lose something: around each
//! orchestrator step's journal entries, and right after every simulator commit (the cloud did
//! something the service has not recorded yet). Unarmed, a point is one relaxed atomic load.

use std::sync::atomic::{AtomicU64, Ordering};

/// The point to die at; 0 when unarmed.
static CRASH_AT: AtomicU64 = AtomicU64::new(0);
/// Points passed so far.
static PASSED: AtomicU64 = AtomicU64::new(0);

/// The crash points, named so a log line says where the process died.
#[derive(Debug, Clone, Copy)]
pub enum Point {
    /// A step's start is recorded; its body has not run.
    StepStarted,
    /// A step's body returned; its end is not recorded.
    StepBodyDone,
    /// A step's end is recorded.
    StepFinished,
    /// The operation moved the cluster to its final state; the job's result is not recorded.
    OperationDone,
    /// The simulator committed a mutation; the caller has not seen its result.
    CloudCommit,
}

/// Arms the crash points from `CKS_CRASH_AT` (read once, at start). Call after the simulator
/// opened, so its recovery of interrupted work does not count.
pub fn arm_from_env() {
    let Some(at) = std::env::var("CKS_CRASH_AT")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|n| *n > 0)
    else {
        return;
    };
    CRASH_AT.store(at, Ordering::SeqCst);
    cks_sim::set_after_commit_hook(|| point(Point::CloudCommit));
    tracing::info!(at, "crash points armed: this process will kill itself");
}

/// Passes a crash point: at the armed one the process dies here.
#[inline]
pub fn point(p: Point) {
    let at = CRASH_AT.load(Ordering::Relaxed);
    if at == 0 {
        return;
    }
    let n = PASSED.fetch_add(1, Ordering::SeqCst) + 1;
    if n == at {
        // stderr is unbuffered, so the line is out before the signal.
        eprintln!("cksd: crash point {n} ({p:?}): SIGKILL");
        let _ =
            rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
        // SIGKILL cannot be caught; should delivery lag, nothing more may happen meanwhile.
        std::process::abort();
    }
}
