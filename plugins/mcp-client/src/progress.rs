//! Progress notifications, routed to the call whose token they carry and
//! shown a few times a second at most.
//!
//! rmcp picks a request's progress token when it sends the request, so a
//! call learns its token only after the server may already have answered
//! with progress: notifications for a token nobody listens to yet are kept
//! (a few) and handed to the call that subscribes to it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rmcp::model::{ProgressNotificationParam, ProgressToken};
use tokio::sync::mpsc;

/// Notifications kept for tokens nobody subscribed to (yet).
const EARLY_LIMIT: usize = 32;

#[derive(Clone, Default)]
pub(crate) struct ProgressRouter {
    inner: Arc<Mutex<Routes>>,
}

#[derive(Default)]
struct Routes {
    subscribers: HashMap<ProgressToken, Subscriber>,
    early: VecDeque<(ProgressToken, String)>,
}

struct Subscriber {
    lines: mpsc::UnboundedSender<String>,
    /// The highest `progress` handed on. MCP progress only grows; rmcp
    /// handles each notification on a task of its own, so one can arrive
    /// after a later one, and is dropped rather than shown as the latest.
    highest: Option<f64>,
}

/// A call's progress lines; unsubscribes when dropped.
pub(crate) struct Subscription {
    pub lines: mpsc::UnboundedReceiver<String>,
    token: ProgressToken,
    router: ProgressRouter,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.router.lock().subscribers.remove(&self.token);
    }
}

impl ProgressRouter {
    fn lock(&self) -> std::sync::MutexGuard<'_, Routes> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn dispatch(&self, params: ProgressNotificationParam) {
        let line = describe(&params);
        let mut routes = self.lock();
        if let Some(subscriber) = routes.subscribers.get_mut(&params.progress_token) {
            if subscriber
                .highest
                .is_none_or(|highest| params.progress > highest)
            {
                subscriber.highest = Some(params.progress);
                let _ = subscriber.lines.send(line);
            }
            return;
        }
        if routes.early.len() == EARLY_LIMIT {
            routes.early.pop_front();
        }
        routes.early.push_back((params.progress_token, line));
    }

    pub(crate) fn subscribe(&self, token: ProgressToken) -> Subscription {
        let (tx, lines) = mpsc::unbounded_channel();
        let mut routes = self.lock();
        routes.early.retain(|(early, line)| {
            if *early == token {
                let _ = tx.send(line.clone());
                false
            } else {
                true
            }
        });
        routes.subscribers.insert(
            token.clone(),
            Subscriber {
                lines: tx,
                highest: None,
            },
        );
        Subscription {
            lines,
            token,
            router: self.clone(),
        }
    }
}

/// How often a call's progress reaches its caller at most: a few updates
/// a second are what a person can read, and a server may send thousands.
pub(crate) const PROGRESS_INTERVAL: Duration = Duration::from_millis(250);

/// Hands a call's progress lines to `show`, at most one per `interval`;
/// the latest line wins, and the last one held back is shown when the
/// call ends with a result (it is often the final `n/n`).
pub(crate) struct Throttle<'a> {
    show: &'a dyn Fn(&str),
    interval: Duration,
    last_shown: Option<Instant>,
    held: Option<String>,
}

impl<'a> Throttle<'a> {
    pub(crate) fn new(show: &'a dyn Fn(&str), interval: Duration) -> Throttle<'a> {
        Throttle {
            show,
            interval,
            last_shown: None,
            held: None,
        }
    }

    /// A new line: shown now if the last one was long enough ago, else
    /// held (replacing one held before).
    pub(crate) fn offer(&mut self, line: String, now: Instant) {
        self.held = Some(line);
        self.tick(now);
    }

    /// Shows the held line once its time has come.
    pub(crate) fn tick(&mut self, now: Instant) {
        let due = self
            .last_shown
            .is_none_or(|last| now.saturating_duration_since(last) >= self.interval);
        if due && let Some(line) = self.held.take() {
            (self.show)(&line);
            self.last_shown = Some(now);
        }
    }

    /// When the line held back is due to be shown (`None`: none is held).
    pub(crate) fn due_at(&self) -> Option<Instant> {
        self.held.as_ref()?;
        Some(
            self.last_shown
                .map_or_else(Instant::now, |last| last + self.interval),
        )
    }

    /// The call has its result: the line held back is shown.
    pub(crate) fn finish(&mut self) {
        if let Some(line) = self.held.take() {
            (self.show)(&line);
        }
    }
}

/// `2/5`, `2/5: indexing`, `40%`… as one line for the caller.
fn describe(params: &ProgressNotificationParam) -> String {
    let amount = match params.total {
        Some(total) => format!("{}/{}", number(params.progress), number(total)),
        None => number(params.progress),
    };
    match &params.message {
        Some(message) if !message.is_empty() => format!("{amount}: {message}"),
        _ => amount,
    }
}

/// Whole numbers without `.0`.
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use rmcp::model::NumberOrString;

    use super::*;

    fn params(
        token: i64,
        progress: f64,
        total: Option<f64>,
        message: Option<&str>,
    ) -> ProgressNotificationParam {
        let mut params =
            ProgressNotificationParam::new(ProgressToken(NumberOrString::Number(token)), progress);
        params.total = total;
        params.message = message.map(str::to_owned);
        params
    }

    #[test]
    fn lines_read_as_amounts() {
        assert_eq!(describe(&params(1, 2.0, Some(5.0), None)), "2/5");
        assert_eq!(
            describe(&params(1, 2.5, None, Some("indexing"))),
            "2.5: indexing"
        );
    }

    #[test]
    fn early_notifications_reach_the_late_subscriber() {
        let router = ProgressRouter::default();
        router.dispatch(params(7, 1.0, Some(3.0), None));
        router.dispatch(params(8, 1.0, None, None));
        let mut seven = router.subscribe(ProgressToken(NumberOrString::Number(7)));
        router.dispatch(params(7, 2.0, Some(3.0), None));
        assert_eq!(seven.lines.try_recv().ok().as_deref(), Some("1/3"));
        assert_eq!(seven.lines.try_recv().ok().as_deref(), Some("2/3"));
        // Late and out of order: dropped.
        router.dispatch(params(7, 1.5, Some(3.0), None));
        router.dispatch(params(7, 2.0, Some(3.0), None));
        assert!(seven.lines.try_recv().is_err());
        drop(seven);
        assert!(router.lock().subscribers.is_empty());
        assert_eq!(router.lock().early.len(), 1);
    }

    #[test]
    fn a_flood_becomes_a_few_lines_and_the_last_one_is_kept() {
        let shown = std::cell::RefCell::new(Vec::new());
        let show = |line: &str| shown.borrow_mut().push(line.to_owned());
        let mut throttle = Throttle::new(&show, Duration::from_millis(250));
        let start = Instant::now();
        // 100 000 lines over 2 s: one every 20 µs.
        for i in 0..100_000u64 {
            let now = start + Duration::from_micros(i * 20);
            throttle.offer(format!("{}/100000", i + 1), now);
        }
        throttle.finish();
        let shown = shown.into_inner();
        assert_eq!(shown.first().map(String::as_str), Some("1/100000"));
        assert_eq!(shown.last().map(String::as_str), Some("100000/100000"));
        // One at the start, one per 250 ms of the 2 s, the last one.
        assert!((8..=10).contains(&shown.len()), "{shown:?}");
    }

    #[test]
    fn a_held_line_waits_for_its_time() {
        let shown = std::cell::RefCell::new(Vec::new());
        let show = |line: &str| shown.borrow_mut().push(line.to_owned());
        let mut throttle = Throttle::new(&show, Duration::from_millis(250));
        let start = Instant::now();
        throttle.offer("1".to_owned(), start);
        throttle.offer("2".to_owned(), start + Duration::from_millis(10));
        throttle.tick(start + Duration::from_millis(100));
        assert_eq!(*shown.borrow(), ["1"]);
        throttle.tick(start + Duration::from_millis(250));
        assert_eq!(*shown.borrow(), ["1", "2"]);
        throttle.finish();
        assert_eq!(*shown.borrow(), ["1", "2"]);
    }
}
