//! One base's request budget: Airtable allows 5 requests per second per base, counted by the
//! server as requests arrive, and answers a burst over it with a 30 s penalty for the whole base.
//!
//! A sliding window, not a token bucket: the limiter remembers when each of the last N requests
//! was sent, and the next one waits until the oldest is more than a second (plus a margin for
//! the trip to the server) old. That holds in *any* one-second window, which is what Airtable
//! measures; a bucket refilled at N/s would allow N at the end of one second and N more at the
//! start of the next. Waiters queue on a fair (FIFO) mutex, so concurrent listings of one base
//! take turns. A request counts from when it was sent until its answer comes back: its arrival
//! is somewhere in between, so the next-but-N request waits a second after the answer (plus
//! 5 ms; 25 ms after a request not answered yet). After a 429 the whole base is held off until
//! the penalty is over.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Added to the second after a request still unanswered: it arrives at the server a little
/// after it was sent, and not always equally late.
const MARGIN: Duration = Duration::from_millis(25);
/// Added to the second after an answered request. Its answer left the server after it arrived
/// there, and the next request reaches the server after it is sent, so counting a second from
/// the answer already keeps the two more than a second apart at the server's end: this only
/// covers a server that rounds its clock to a few milliseconds. (25 ms here cost a sync of 51
/// pages a quarter of a second: 10 windows.)
const ANSWERED_MARGIN: Duration = Duration::from_millis(5);
const WINDOW: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub(crate) struct BaseLimiter {
    per_second: usize,
    /// Taken by the request next in line for as long as it waits: waiters go in FIFO order.
    turn: tokio::sync::Mutex<()>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The last `per_second` requests: their ticket, the latest instant each may have
    /// reached the server (when it was sent, then when its answer came), and whether it was
    /// answered.
    sent: VecDeque<(u64, Instant, bool)>,
    next_ticket: u64,
    hold_until: Option<Instant>,
}

/// A request counted by [`BaseLimiter::acquire`]; hand it back to [`BaseLimiter::answered`].
#[derive(Debug)]
pub(crate) struct Ticket(u64);

/// The wait was cancelled.
#[derive(Debug)]
pub(crate) struct Cancelled;

impl BaseLimiter {
    pub(crate) fn new(per_second: u32) -> BaseLimiter {
        let per_second = usize::try_from(per_second.max(1)).unwrap_or(usize::MAX);
        BaseLimiter {
            per_second,
            turn: tokio::sync::Mutex::new(()),
            state: Mutex::new(State {
                sent: VecDeque::with_capacity(per_second),
                ..State::default()
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for this base's turn to send a request, and counts the request as sent now.
    pub(crate) async fn acquire(&self, cancel: &CancellationToken) -> Result<Ticket, Cancelled> {
        // Held while waiting: the next request in line is the one that waits for the window.
        let _turn = tokio::select! {
            turn = self.turn.lock() => turn,
            () = cancel.cancelled() => return Err(Cancelled),
        };
        loop {
            let ready = {
                let mut state = self.state();
                let now = Instant::now();
                let mut ready = now;
                if let Some(hold) = state.hold_until {
                    ready = ready.max(hold);
                }
                if state.sent.len() >= self.per_second
                    && let Some(&(_, oldest, answered)) = state.sent.front()
                {
                    let margin = if answered { ANSWERED_MARGIN } else { MARGIN };
                    ready = ready.max(oldest + WINDOW + margin);
                }
                if ready <= now {
                    while state.sent.len() >= self.per_second {
                        state.sent.pop_front();
                    }
                    let ticket = state.next_ticket;
                    state.next_ticket += 1;
                    state.sent.push_back((ticket, now, false));
                    return Ok(Ticket(ticket));
                }
                ready
            };
            tokio::select! {
                () = tokio::time::sleep_until(ready) => {}
                () = cancel.cancelled() => return Err(Cancelled),
            }
        }
    }

    /// The request of `ticket` has been answered (or has failed): it reached the server, if
    /// at all, by now. Counting it from now rather than from when it was sent keeps a slow
    /// connection or a busy machine from bunching requests up at the server's end.
    pub(crate) fn answered(&self, ticket: Ticket) {
        let now = Instant::now();
        let mut state = self.state();
        if let Some((_, at, answered)) = state.sent.iter_mut().find(|(id, ..)| *id == ticket.0) {
            *at = (*at).max(now);
            *answered = true;
        }
    }

    /// Holds every request to this base off for `penalty` from now (after a 429).
    pub(crate) fn hold_off(&self, penalty: Duration) {
        let until = Instant::now() + penalty;
        let mut state = self.state();
        if state.hold_until.is_none_or(|current| current < until) {
            state.hold_until = Some(until);
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

    #[tokio::test(start_paused = true)]
    async fn a_request_counts_until_its_answer_came() {
        let limiter = BaseLimiter::new(2);
        let cancel = CancellationToken::new();
        let start = Instant::now();
        let first = limiter.acquire(&cancel).await.unwrap();
        // The first answer takes 300 ms: the third request waits a second from then.
        tokio::time::advance(Duration::from_millis(300)).await;
        limiter.answered(first);
        let second = limiter.acquire(&cancel).await.unwrap();
        limiter.answered(second);
        limiter.acquire(&cancel).await.unwrap();
        assert_eq!(
            Instant::now() - start,
            Duration::from_millis(300) + WINDOW + ANSWERED_MARGIN
        );
    }
}
