//! Loopback address ranges for simulators: one `/24` per test server, held by a file lock, so
//! test servers on one machine (this suite's, the CLI's, several test processes) never hand out
//! the same public IPs.

/// A loopback /24 no other test server on this machine uses: every cluster's API endpoint is
/// `<public ip>:6443`, so two simulators must not hand out the same addresses. A range is held
/// by an exclusive lock on a file, released when the test process ends, however it ends.
pub fn reserve_public_range() -> (String, std::fs::File) {
    let dir = std::env::temp_dir().join("cks-test-public-ranges");
    std::fs::create_dir_all(&dir).expect("range lock dir");
    for a in 20u32..=250 {
        for b in 0u32..=255 {
            let path = dir.join(format!("127.{a}.{b}"));
            let Ok(file) = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
            else {
                continue;
            };
            if file.try_lock().is_ok() {
                return (format!("127.{a}.{b}.0/24"), file);
            }
        }
    }
    panic!("no free loopback range for the simulator");
}
