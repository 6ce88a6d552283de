//! The desk's one clock: what every backend stamps its writes with and what the server takes
//! "now" from (routing timeouts, sessions, analytics ranges). Tests move it instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Milliseconds since the Unix epoch, shared by clones: advancing one advances them all.
#[derive(Clone)]
pub struct Clock(Arc<Time>);

enum Time {
    /// The wall clock plus an offset that [`Clock::advance`] moves.
    Wall(AtomicI64),
    /// A time only [`Clock::set`] and [`Clock::advance`] move (tests).
    Manual(AtomicI64),
}

fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

impl Clock {
    /// The wall clock, movable forward by [`Clock::advance`].
    pub fn system() -> Self {
        Self(Arc::new(Time::Wall(AtomicI64::new(0))))
    }

    /// A clock that stands at `ms` until it is set or advanced (tests).
    pub fn manual(ms: i64) -> Self {
        Self(Arc::new(Time::Manual(AtomicI64::new(ms))))
    }

    pub fn now_ms(&self) -> i64 {
        match &*self.0 {
            Time::Wall(offset) => wall_ms().saturating_add(offset.load(Ordering::SeqCst)),
            Time::Manual(ms) => ms.load(Ordering::SeqCst),
        }
    }

    /// Moves time forward by `ms` (tests) and returns the new now.
    pub fn advance(&self, ms: i64) -> i64 {
        let (Time::Wall(at) | Time::Manual(at)) = &*self.0;
        at.fetch_add(ms, Ordering::SeqCst);
        self.now_ms()
    }

    /// Puts a manual clock at `ms`; other clocks move by the difference.
    pub fn set(&self, ms: i64) {
        match &*self.0 {
            Time::Manual(at) => at.store(ms, Ordering::SeqCst),
            _ => {
                self.advance(ms - self.now_ms());
            }
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", self.now_ms())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_one_time() {
        let a = Clock::manual(1_000);
        let b = a.clone();
        assert_eq!(b.advance(500), 1_500);
        assert_eq!(a.now_ms(), 1_500);
        a.set(10);
        assert_eq!(b.now_ms(), 10);
    }

    #[test]
    fn the_system_clock_follows_the_wall_and_moves_forward() {
        let c = Clock::system();
        let before = wall_ms();
        c.advance(60_000);
        let now = c.now_ms();
        assert!(now >= before + 60_000 && now < wall_ms() + 61_000, "{now}");
    }
}
