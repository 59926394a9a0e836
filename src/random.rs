//! The one seam randomness comes through: mask keys (RFC 6455 5.3) and the client's
//! Sec-WebSocket-Key (4.1). A CSPRNG by default; a seeded source makes runs byte-exact for replay.

use crate::error::Error;

/// A source of random bytes. Implement it to bring the host's CSPRNG (crypto.getRandomValues,
/// wasi:random) or a fixed sequence for tests.
pub trait RandomSource: Send {
    /// Fills `buf` with random bytes, or says why it could not.
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Error>;
}

/// Bytes drawn from a source in bulk and handed out once each: a 4-byte mask key then costs a
/// copy, and one draw (a system call, a call into JS, a host call) serves `N / 4` keys, as ws
/// pools `crypto.randomFillSync`. RFC 6455 5.3 asks for unpredictable keys, which every pooled
/// byte still is: it came from the CSPRNG and is used once. Spent bytes are wiped, so no key
/// handed out can be read back from the pool.
struct Pool<const N: usize> {
    bytes: [u8; N],
    /// Bytes before `used` have been handed out (and wiped); the rest are fresh.
    used: usize,
    /// Draws so far (what the tests count).
    draws: u64,
}

impl<const N: usize> Pool<N> {
    const EMPTY: Self = Pool { bytes: [0; N], used: N, draws: 0 };

    fn fill(&mut self, mut buf: &mut [u8], mut draw: impl FnMut(&mut [u8]) -> Result<(), Error>) -> Result<(), Error> {
        // Every byte goes through the pool, so the bytes handed out do not depend on how the
        // requests were split (seeded replay stays byte-exact however a caller asks).
        while !buf.is_empty() {
            if self.used == N {
                // A failed draw leaves the pool empty, so the next call asks the source again.
                self.draws += 1;
                draw(&mut self.bytes)?;
                self.used = 0;
            }
            let n = buf.len().min(N - self.used);
            let fresh = &mut self.bytes[self.used..self.used + n];
            buf[..n].copy_from_slice(fresh);
            fresh.fill(0);
            self.used += n;
            buf = &mut buf[n..];
        }
        Ok(())
    }
}

/// Any source, drawn [`POOLED_BYTES`] at a time (see the pool's notes above): for sources whose
/// every call costs a crossing, such as `crypto.getRandomValues` from wasm or `wasi:random` from
/// a component. A seeded source stays byte-exact through it.
pub struct PooledRandom<S> {
    source: S,
    pool: Pool<POOLED_BYTES>,
}

/// How many bytes a [`PooledRandom`] draws at once: 64 mask keys.
pub const POOLED_BYTES: usize = 256;

impl<S: RandomSource> PooledRandom<S> {
    pub fn new(source: S) -> Self {
        PooledRandom { source, pool: Pool::EMPTY }
    }

    /// How many times this pool has drawn from its source.
    pub fn draws(&self) -> u64 {
        self.pool.draws
    }
}

impl<S: RandomSource> RandomSource for PooledRandom<S> {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        self.pool.fill(buf, |bytes| self.source.fill(bytes))
    }
}

/// How many bytes a [`SharedPool`] draws at once: 1,024 mask keys (ws pools 8 KiB).
pub const SHARED_POOL_BYTES: usize = 4096;

/// A pool shared by every handle that draws through it (put it in a `thread_local!`: in wasm, one
/// per instance), for a source whose every call costs a crossing: one draw serves 1,024 mask
/// keys, where a pool per handle ([`PooledRandom`]) serves 64 and holds 256 bytes per handle.
pub struct SharedPool(std::cell::RefCell<Pool<SHARED_POOL_BYTES>>);

impl SharedPool {
    pub const fn new() -> Self {
        SharedPool(std::cell::RefCell::new(Pool::EMPTY))
    }

    /// Fills `buf` from the pool, calling `draw` to refill it. A fill from inside `draw` (a host
    /// source that calls back into the engine) is refused with `RandomUnavailable`, not a panic.
    pub fn fill(&self, buf: &mut [u8], draw: impl FnMut(&mut [u8]) -> Result<(), Error>) -> Result<(), Error> {
        let Ok(mut pool) = self.0.try_borrow_mut() else {
            return Err(Error::RandomUnavailable {
                problem: "the randomness source asked for random bytes while refilling the pool".into(),
            });
        };
        pool.fill(buf, draw)
    }

    /// How many times this pool has drawn from its source.
    pub fn draws(&self) -> u64 {
        self.0.borrow().draws
    }
}

impl Default for SharedPool {
    fn default() -> Self {
        SharedPool::new()
    }
}

/// The operating system's CSPRNG, through getrandom, drawn [`OS_POOL_BYTES`] at a time into a
/// pool per thread (shared by the thread's handles): one system call serves 1,024 mask keys,
/// where it was one per frame.
///
/// After `fork()` without `exec`, parent and child hold copies of the same pool and would hand
/// out the same keys until it runs out (as with rand's thread-local generator); start
/// connections after the fork, or give each process its own [`RandomSource`].
#[cfg(feature = "os-random")]
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRandom;

/// How many OS bytes one draw fetches into a thread's pool (ws pools 8 KiB).
#[cfg(feature = "os-random")]
pub const OS_POOL_BYTES: usize = 4096;

#[cfg(feature = "os-random")]
std::thread_local! {
    static OS_POOL: std::cell::RefCell<Pool<OS_POOL_BYTES>> = const { std::cell::RefCell::new(Pool::EMPTY) };
}

#[cfg(feature = "os-random")]
fn os_random(buf: &mut [u8]) -> Result<(), Error> {
    getrandom::getrandom(buf).map_err(|e| Error::RandomUnavailable { problem: e.to_string() })
}

#[cfg(feature = "os-random")]
impl OsRandom {
    /// How many times this thread has drawn from the OS (each draw fills one pool).
    pub fn draws_on_this_thread() -> u64 {
        OS_POOL.with_borrow(|pool| pool.draws)
    }
}

#[cfg(feature = "os-random")]
impl RandomSource for OsRandom {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        OS_POOL.with_borrow_mut(|pool| pool.fill(buf, os_random))
    }
}

/// A deterministic source (SplitMix64) for tests and byte-exact replay. Not for production:
/// predictable mask keys defeat the cache-poisoning defence of RFC 6455 10.3.
#[derive(Clone, Copy, Debug)]
pub struct SeededRandom {
    state: u64,
}

impl SeededRandom {
    pub fn new(seed: u64) -> Self {
        SeededRandom { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl RandomSource for SeededRandom {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        for chunk in buf.chunks_mut(8) {
            let word = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_source_repeats() {
        let (mut a, mut b) = (SeededRandom::new(7), SeededRandom::new(7));
        let (mut x, mut y) = ([0u8; 13], [0u8; 13]);
        a.fill(&mut x).unwrap();
        b.fill(&mut y).unwrap();
        assert_eq!(x, y);
        assert_ne!(x, [0u8; 13]);
    }

    #[cfg(feature = "os-random")]
    #[test]
    fn os_source_fills() {
        let mut buf = [0u8; 32];
        OsRandom.fill(&mut buf).unwrap();
        assert_ne!(buf, [0u8; 32]);
    }

    /// Issue 12: a mask key per frame must not cost a system call per frame.
    #[cfg(feature = "os-random")]
    #[test]
    fn os_source_draws_mask_keys_in_bulk() {
        let before = OsRandom::draws_on_this_thread();
        let keys: Vec<[u8; 4]> = (0..10_000)
            .map(|_| {
                let mut key = [0u8; 4];
                OsRandom.fill(&mut key).unwrap();
                key
            })
            .collect();
        let draws = OsRandom::draws_on_this_thread() - before;
        assert!(draws <= 10_000 * 4 / OS_POOL_BYTES as u64 + 1, "{draws} OS draws for 10,000 keys");
        // Each pooled byte is handed out once: 10,000 keys from a CSPRNG are all but surely distinct.
        let distinct: std::collections::HashSet<_> = keys.iter().collect();
        assert!(distinct.len() > 9_990, "{} distinct keys of 10,000", distinct.len());
    }

    /// A source that counts its calls and fails when told to.
    struct Counting {
        calls: u64,
        fail: bool,
        inner: SeededRandom,
    }

    impl RandomSource for Counting {
        fn fill(&mut self, buf: &mut [u8]) -> Result<(), Error> {
            self.calls += 1;
            if self.fail {
                return Err(Error::RandomUnavailable { problem: "told to fail".into() });
            }
            self.inner.fill(buf)
        }
    }

    #[test]
    fn pooled_source_calls_its_source_once_per_pool() {
        let mut pooled = PooledRandom::new(Counting { calls: 0, fail: false, inner: SeededRandom::new(3) });
        let mut key = [0u8; 4];
        for _ in 0..10_000 {
            pooled.fill(&mut key).unwrap();
        }
        assert_eq!(pooled.source.calls, (10_000 * 4usize).div_ceil(POOLED_BYTES) as u64);
        assert_eq!(pooled.draws(), pooled.source.calls);
    }

    /// Seeded replay survives pooling: the same seed gives the same bytes, split any way.
    #[test]
    fn pooled_seeded_source_repeats() {
        let mut whole = PooledRandom::new(SeededRandom::new(9));
        let mut pieces = PooledRandom::new(SeededRandom::new(9));
        let mut a = [0u8; 600];
        whole.fill(&mut a[..300]).unwrap();
        whole.fill(&mut a[300..]).unwrap();
        let mut b = [0u8; 600];
        for piece in b.chunks_mut(7) {
            pieces.fill(piece).unwrap();
        }
        assert_eq!(a, b);
    }

    /// A failing source is an error for that call, and the next call asks the source again.
    #[test]
    fn pooled_source_failure_is_an_error_then_retried() {
        let mut pooled = PooledRandom::new(Counting { calls: 0, fail: true, inner: SeededRandom::new(4) });
        let mut key = [0u8; 4];
        assert!(matches!(pooled.fill(&mut key), Err(Error::RandomUnavailable { .. })));
        pooled.source.fail = false;
        pooled.fill(&mut key).unwrap();
        assert_eq!(pooled.source.calls, 2);
    }

    /// Handles sharing one pool draw once per 1,024 keys between them, and a draw that asks the
    /// same pool for bytes (a host source calling back in) is an error, not a panic.
    #[test]
    fn a_shared_pool_serves_many_handles_and_refuses_reentry() {
        let pool = SharedPool::new();
        let mut source = Counting { calls: 0, fail: false, inner: SeededRandom::new(5) };
        let mut keys = [[0u8; 4]; 2];
        for _ in 0..5_000 {
            for key in keys.iter_mut() {
                pool.fill(key, |bytes| source.fill(bytes)).unwrap();
            }
        }
        assert_eq!(source.calls, (10_000 * 4usize).div_ceil(SHARED_POOL_BYTES) as u64);
        assert_eq!(pool.draws(), source.calls);

        let reentrant = SharedPool::new();
        let mut inner = Ok(());
        let outer = reentrant.fill(&mut [0u8; 4], |bytes| {
            inner = reentrant.fill(&mut [0u8; 4], |_| Ok(()));
            bytes.fill(1);
            Ok(())
        });
        assert!(outer.is_ok());
        assert!(matches!(inner, Err(Error::RandomUnavailable { .. })), "{inner:?}");
    }

    /// Requests that straddle a pool's end, and one larger than a pool, are filled whole.
    #[cfg(feature = "os-random")]
    #[test]
    fn os_source_fills_across_pool_refills() {
        for len in [3usize, 7, 16, 4095, OS_POOL_BYTES, OS_POOL_BYTES + 5] {
            for _ in 0..3 {
                let mut buf = vec![0u8; len];
                OsRandom.fill(&mut buf).unwrap();
                // 16 zero bytes in a row from a CSPRNG: about 2^-128.
                let longest_zero_run = buf.split(|&b| b != 0).map(<[u8]>::len).max().unwrap_or(0);
                assert!(longest_zero_run < 16, "a run of {longest_zero_run} zero bytes in {len}");
            }
        }
    }
}
