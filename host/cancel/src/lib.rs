//! The cancel token every layer of a turn shares: the agent loop, the
//! model stream, the call pipeline, and the WASM and native runtimes.
//!
//! A [`CancelToken`] is a flag that goes up once (until [`CancelToken::reset`]).
//! Whoever must stop on it waits on it rather than looking at it again and
//! again: a thread blocks in [`CancelToken::wait_timeout`], async code
//! awaits [`CancelToken::cancelled`], and code blocked somewhere else (a
//! channel, a child process) registers what wakes it with
//! [`CancelToken::on_cancel`]. Raising the flag runs every callback and
//! wakes every waiter at once, on the thread that raised it.

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// A shared cancel flag with waiters. Clones share the flag.
#[derive(Clone, Default)]
pub struct CancelToken {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    cancelled: AtomicBool,
    waiters: Mutex<Waiters>,
    raised: Condvar,
}

#[derive(Default)]
struct Waiters {
    next_id: u64,
    /// Futures waiting in [`CancelToken::cancelled`], by id.
    wakers: BTreeMap<u64, Waker>,
    /// Callbacks of live [`OnCancel`] guards, by id.
    callbacks: BTreeMap<u64, Box<dyn FnOnce() + Send>>,
}

impl Waiters {
    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

impl CancelToken {
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Raises the flag: wakes every waiter and runs every registered
    /// callback, here. Raising it again does nothing.
    pub fn cancel(&self) {
        let (wakers, callbacks) = {
            let mut waiters = self.waiters();
            if self.inner.cancelled.swap(true, Ordering::SeqCst) {
                return;
            }
            (
                std::mem::take(&mut waiters.wakers),
                std::mem::take(&mut waiters.callbacks),
            )
        };
        self.inner.raised.notify_all();
        for waker in wakers.into_values() {
            waker.wake();
        }
        for callback in callbacks.into_values() {
            callback();
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::SeqCst)
    }

    /// Lowers the flag, for the next turn. Waiters registered from now on
    /// wait for the next cancel.
    pub fn reset(&self) {
        let _waiters = self.waiters();
        self.inner.cancelled.store(false, Ordering::SeqCst);
    }

    /// Blocks until the flag is up or `timeout` passed; whether it is up.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        match Instant::now().checked_add(timeout) {
            Some(deadline) => self.wait_until(deadline),
            None => {
                let mut waiters = self.waiters();
                while !self.is_cancelled() {
                    waiters = self
                        .inner
                        .raised
                        .wait(waiters)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                true
            }
        }
    }

    /// Blocks until the flag is up or `deadline` passed; whether it is up.
    pub fn wait_until(&self, deadline: Instant) -> bool {
        let mut waiters = self.waiters();
        loop {
            if self.is_cancelled() {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            waiters = self
                .inner
                .raised
                .wait_timeout(waiters, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// A future that completes when the flag goes up.
    pub fn cancelled(&self) -> Cancelled {
        Cancelled {
            token: self.clone(),
            id: None,
        }
    }

    /// Runs `callback` when the flag goes up (on the raising thread), or
    /// now if it is up already; not at all once the returned guard is
    /// dropped. The callback must not block: it runs with the other
    /// waiters' wake-ups.
    pub fn on_cancel(&self, callback: impl FnOnce() + Send + 'static) -> OnCancel {
        let id = {
            let mut waiters = self.waiters();
            if self.is_cancelled() {
                None
            } else {
                let id = waiters.next_id();
                waiters.callbacks.insert(id, Box::new(callback));
                return OnCancel {
                    token: self.clone(),
                    id: Some(id),
                };
            }
        };
        // Already raised: run it now, outside the lock.
        let guard = OnCancel {
            token: self.clone(),
            id,
        };
        callback();
        guard
    }

    fn waiters(&self) -> MutexGuard<'_, Waiters> {
        // A panicking waker or callback runs outside the lock; the map is
        // consistent whenever the lock is free.
        self.inner
            .waiters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The future of [`CancelToken::cancelled`].
#[derive(Debug)]
pub struct Cancelled {
    token: CancelToken,
    /// Where its waker is registered, once polled.
    id: Option<u64>,
}

impl Future for Cancelled {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        if self.token.is_cancelled() {
            return Poll::Ready(());
        }
        let token = self.token.clone();
        let mut waiters = token.waiters();
        // Checked again under the lock: `cancel` takes the wakers under it.
        if token.is_cancelled() {
            return Poll::Ready(());
        }
        let id = match self.id {
            Some(id) => id,
            None => {
                let id = waiters.next_id();
                self.id = Some(id);
                id
            }
        };
        waiters.wakers.insert(id, context.waker().clone());
        Poll::Pending
    }
}

impl Drop for Cancelled {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.token.waiters().wakers.remove(&id);
        }
    }
}

/// Keeps a callback of [`CancelToken::on_cancel`] registered.
#[must_use = "the callback is dropped with the guard"]
#[derive(Debug)]
pub struct OnCancel {
    token: CancelToken,
    id: Option<u64>,
}

impl Drop for OnCancel {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.token.waiters().callbacks.remove(&id);
        }
    }
}
