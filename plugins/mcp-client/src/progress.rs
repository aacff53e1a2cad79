//! Progress notifications, routed to the call whose token they carry.
//!
//! rmcp picks a request's progress token when it sends the request, so a
//! call learns its token only after the server may already have answered
//! with progress: notifications for a token nobody listens to yet are kept
//! (a few) and handed to the call that subscribes to it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

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
    subscribers: HashMap<ProgressToken, mpsc::UnboundedSender<String>>,
    early: VecDeque<(ProgressToken, String)>,
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
        if let Some(subscriber) = routes.subscribers.get(&params.progress_token) {
            let _ = subscriber.send(line);
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
        routes.subscribers.insert(token.clone(), tx);
        Subscription {
            lines,
            token,
            router: self.clone(),
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
        assert!(seven.lines.try_recv().is_err());
        drop(seven);
        assert!(router.lock().subscribers.is_empty());
        assert_eq!(router.lock().early.len(), 1);
    }
}
