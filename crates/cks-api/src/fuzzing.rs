//! Inputs for the bounded fuzz tests of the parsing surfaces (parameters, signatures, sessions,
//! user data): a seeded generator biased towards the bytes parsers trip over. Deterministic, so
//! a failure names its seed and replays; `CKS_FUZZ_ITERATIONS` makes a longer campaign.
//!
//! Not a coverage-guided fuzzer (`cargo fuzz` needs a nightly toolchain this project does not
//! assume); the runs are part of the ordinary test suite, so they guard every change.

/// splitmix64: tiny, fast, and good enough to spread test inputs.
#[derive(Debug, Clone)]
pub struct Rng(u64);

/// Fragments that have broken or could break a parser of ours.
const TRICKY: &[&str] = &[
    "%",
    "%3D",
    "%26",
    "%2B",
    "%20",
    "%00",
    "%FF",
    "%C3%A9",
    "%E2%82",
    "=",
    "&",
    "+",
    "[",
    "]",
    ".",
    "[0].",
    "]0[",
    "signatureVersion",
    "signatureversion",
    "expires",
    "apiKey",
    "signature",
    "response",
    "json",
    "3",
    "03",
    " 3",
    "sessionkey",
    ";",
    "\"",
    "\u{7}",
    "\u{0}",
    "é",
    "\u{202e}",
    "%%",
    "%2",
    "-1",
    "9223372036854775807",
    "4294967298",
    "T",
    "+0000",
    "Z",
];

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Text of up to `max` pieces: letters, digits, punctuation and the tricky fragments.
    pub fn text(&mut self, max: usize) -> String {
        let mut out = String::new();
        for _ in 0..self.below(max + 1) {
            match self.below(4) {
                0 => out.push_str(self.pick::<&str>(TRICKY)),
                1 => out.push(char::from(b'a' + self.below(26) as u8)),
                2 => out.push(char::from(b'0' + self.below(10) as u8)),
                _ => out.push(char::from(32 + self.below(95) as u8)),
            }
        }
        out
    }

    /// A name CloudStack accepts: `[A-Za-z0-9_.]`, sometimes as `map[i].field`.
    pub fn name(&mut self) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.";
        let plain = |rng: &mut Rng| {
            (0..1 + rng.below(8))
                .map(|_| char::from(*rng.pick(ALPHABET)))
                .collect::<String>()
        };
        let base = plain(self);
        if self.chance(20) {
            format!("{base}[{}].{}", self.below(3), plain(self))
        } else {
            base
        }
    }

    /// Arbitrary bytes, often valid UTF-8 text.
    pub fn bytes(&mut self, max: usize) -> Vec<u8> {
        if self.chance(50) {
            return self.text(max).into_bytes();
        }
        (0..self.below(max + 1))
            .map(|_| self.next_u64() as u8)
            .collect()
    }
}

/// How many inputs each fuzz test tries: `CKS_FUZZ_ITERATIONS`, else `default`.
pub fn iterations(default: usize) -> usize {
    std::env::var("CKS_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `check` on `iterations(default)` seeds; a panic names the seed that caused it, so
/// `check(&mut Rng::new(seed))` replays the failure.
pub fn run(default: usize, mut check: impl FnMut(&mut Rng)) {
    for seed in 0..iterations(default) as u64 {
        let mut rng = Rng::new(seed);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&mut rng)));
        if let Err(panic) = outcome {
            eprintln!("fuzz input with seed {seed} failed");
            std::panic::resume_unwind(panic);
        }
    }
}
