//! The channel a response streams through: the client's producer sends
//! events, the agent's consumer blocks for the next one, and either side
//! can stop the other without anyone polling: the consumer's cancel wakes
//! the producer's waits at once, and an interrupt from another thread
//! wakes the blocked consumer with [`ModelError::Cancelled`].

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use wharf_cancel::CancelToken;

use super::{ModelError, ResponseEvent};

type Event = Result<ResponseEvent, ModelError>;

/// The events of one response. Dropping it (or [`ResponseStream::cancel`])
/// tells the producer to stop.
#[derive(Debug)]
pub struct ResponseStream {
    shared: Arc<Shared>,
}

/// The producing side of a [`ResponseStream`]. The stream ends when the
/// last clone is dropped.
#[derive(Debug)]
pub struct ResponseSender {
    shared: Arc<Shared>,
}

/// Stops a [`ResponseStream`] from another thread: the producer is told to
/// stop and the consumer, blocked in `next`, gets [`ModelError::Cancelled`].
#[derive(Debug, Clone)]
pub struct StreamInterrupt {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    queue: Mutex<Queue>,
    arrived: Condvar,
    /// Raised when the consumer is gone or stopped the stream.
    cancel: CancelToken,
}

#[derive(Debug, Default)]
struct Queue {
    events: VecDeque<Event>,
    senders: usize,
    /// An interrupt queued its `Cancelled` (once).
    interrupted: bool,
}

impl Shared {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl ResponseStream {
    /// A connected pair: the client keeps the sender.
    pub fn channel() -> (ResponseSender, ResponseStream) {
        let shared = Arc::new(Shared::default());
        shared.queue().senders = 1;
        (
            ResponseSender {
                shared: Arc::clone(&shared),
            },
            ResponseStream { shared },
        )
    }

    /// The next event, waiting at most `timeout`; `Ok(None)` when the
    /// stream ended (the producer is gone and every event was read),
    /// `Err(Idle)` when nothing came in time.
    pub fn next_timeout(&self, timeout: Duration) -> Result<Option<Event>, ModelError> {
        let deadline = Instant::now().checked_add(timeout);
        let mut queue = self.shared.queue();
        loop {
            if let Some(event) = queue.events.pop_front() {
                return Ok(Some(event));
            }
            if queue.senders == 0 {
                return Ok(None);
            }
            queue = match deadline {
                None => self
                    .shared
                    .arrived
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(ModelError::Idle(timeout));
                    }
                    self.shared
                        .arrived
                        .wait_timeout(queue, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }

    /// Asks the producer to stop (a cancelled turn).
    pub fn cancel(&self) {
        self.shared.cancel.cancel();
    }

    /// What stops this stream from another thread.
    pub fn interrupt(&self) -> StreamInterrupt {
        StreamInterrupt {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl StreamInterrupt {
    /// Tells the producer to stop and queues [`ModelError::Cancelled`]
    /// (once), which wakes the consumer.
    pub fn interrupt(&self) {
        self.shared.cancel.cancel();
        let mut queue = self.shared.queue();
        if !queue.interrupted {
            queue.interrupted = true;
            queue.events.push_back(Err(ModelError::Cancelled));
            self.shared.arrived.notify_all();
        }
    }
}

impl Iterator for ResponseStream {
    type Item = Event;

    /// The next event, blocking; `None` when the stream ended.
    fn next(&mut self) -> Option<Event> {
        self.next_timeout(Duration::MAX).unwrap_or(None)
    }
}

impl Drop for ResponseStream {
    fn drop(&mut self) {
        self.cancel();
    }
}

impl ResponseSender {
    /// Passes an event on; `false` when the stream is gone or cancelled (the
    /// producer should stop).
    pub fn send(&self, event: Event) -> bool {
        if self.is_cancelled() {
            return false;
        }
        self.shared.queue().events.push_back(event);
        self.shared.arrived.notify_one();
        true
    }

    pub fn is_cancelled(&self) -> bool {
        self.shared.cancel.is_cancelled()
    }

    /// Completes when the consumer cancels the stream or drops it.
    pub async fn cancelled(&self) {
        self.shared.cancel.cancelled().await;
    }
}

impl Clone for ResponseSender {
    fn clone(&self) -> ResponseSender {
        self.shared.queue().senders += 1;
        ResponseSender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Drop for ResponseSender {
    fn drop(&mut self) {
        let mut queue = self.shared.queue();
        queue.senders -= 1;
        if queue.senders == 0 {
            self.shared.arrived.notify_all();
        }
    }
}
