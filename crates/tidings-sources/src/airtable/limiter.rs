//! One base's request budget: Airtable allows 5 requests per second per base, counted by the
//! server as requests arrive, and answers a burst over it with a 30 s penalty for the whole base.
//!
//! A sliding window, not a token bucket: the limiter remembers when each of the last N requests
//! was sent, and the next one waits until the oldest is more than a second (plus a margin for
//! the trip to the server) old. That holds in *any* one-second window, which is what Airtable
//! measures; a bucket refilled at N/s would allow N at the end of one second and N more at the
//! start of the next. Waiters queue on a fair (FIFO) mutex, so concurrent listings of one base
//! take turns. After a 429 the whole base is held off until the penalty is over.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Added to the second: requests arrive at the server a little after they are sent, and not
/// always equally late.
const MARGIN: Duration = Duration::from_millis(25);
const WINDOW: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub(crate) struct BaseLimiter {
    per_second: usize,
    sent: tokio::sync::Mutex<VecDeque<Instant>>,
    hold_until: Mutex<Option<Instant>>,
}

/// The wait was cancelled.
#[derive(Debug)]
pub(crate) struct Cancelled;

impl BaseLimiter {
    pub(crate) fn new(per_second: u32) -> BaseLimiter {
        let per_second = usize::try_from(per_second.max(1)).unwrap_or(usize::MAX);
        BaseLimiter {
            per_second,
            sent: tokio::sync::Mutex::new(VecDeque::with_capacity(per_second)),
            hold_until: Mutex::new(None),
        }
    }

    /// Waits for this base's turn to send a request, and counts the request as sent now.
    pub(crate) async fn acquire(&self, cancel: &CancellationToken) -> Result<(), Cancelled> {
        // Held while waiting: the next request in line is the one that waits for the window.
        let mut sent = tokio::select! {
            sent = self.sent.lock() => sent,
            () = cancel.cancelled() => return Err(Cancelled),
        };
        loop {
            let now = Instant::now();
            let mut ready = now;
            if let Some(hold) = *self
                .hold_until
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
            {
                ready = ready.max(hold);
            }
            if sent.len() >= self.per_second
                && let Some(oldest) = sent.front()
            {
                ready = ready.max(*oldest + WINDOW + MARGIN);
            }
            if ready <= now {
                while sent.len() >= self.per_second {
                    sent.pop_front();
                }
                sent.push_back(now);
                return Ok(());
            }
            tokio::select! {
                () = tokio::time::sleep_until(ready) => {}
                () = cancel.cancelled() => return Err(Cancelled),
            }
        }
    }

    /// Holds every request to this base off for `penalty` from now (after a 429).
    pub(crate) fn hold_off(&self, penalty: Duration) {
        let until = Instant::now() + penalty;
        let mut hold = self
            .hold_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if hold.is_none_or(|current| current < until) {
            *hold = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn no_more_than_n_requests_start_in_any_second() {
        let limiter = BaseLimiter::new(5);
        let cancel = CancellationToken::new();
        let start = Instant::now();
        let mut at = Vec::new();
        for _ in 0..12 {
            limiter.acquire(&cancel).await.unwrap();
            at.push(Instant::now() - start);
        }
        for (i, t) in at.iter().enumerate().skip(5) {
            assert!(*t - at[i - 5] > WINDOW, "{at:?}");
        }
        assert_eq!(at[5], WINDOW + MARGIN);
        assert_eq!(at[10], 2 * (WINDOW + MARGIN));
    }

    #[tokio::test(start_paused = true)]
    async fn a_hold_off_delays_the_next_request_and_cancel_interrupts_it() {
        let limiter = BaseLimiter::new(5);
        let cancel = CancellationToken::new();
        limiter.hold_off(Duration::from_secs(30));
        let start = Instant::now();
        limiter.acquire(&cancel).await.unwrap();
        assert_eq!(Instant::now() - start, Duration::from_secs(30));

        limiter.hold_off(Duration::from_secs(30));
        cancel.cancel();
        assert!(limiter.acquire(&cancel).await.is_err());
    }
}
