use std::sync::atomic::AtomicUsize;
use std::sync::mpsc;
use std::task::Wake;

use super::*;

/// A waker that counts its wake-ups.
#[derive(Default)]
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn clones_share_the_flag_and_reset_lowers_it() {
    let token = CancelToken::new();
    let clone = token.clone();
    assert!(!token.is_cancelled());
    clone.cancel();
    clone.cancel();
    assert!(token.is_cancelled());
    assert!(token.wait_timeout(Duration::ZERO));
    token.reset();
    assert!(!clone.is_cancelled());
    assert!(!clone.wait_timeout(Duration::ZERO));
}

#[test]
fn a_blocked_thread_wakes_when_the_flag_goes_up() {
    let token = CancelToken::new();
    let (ready_tx, ready_rx) = mpsc::channel();
    let waiter = std::thread::spawn({
        let token = token.clone();
        move || {
            ready_tx.send(()).unwrap();
            // No deadline: only the cancel can end this wait.
            token.wait_timeout(Duration::MAX)
        }
    });
    ready_rx.recv().unwrap();
    token.cancel();
    assert!(waiter.join().unwrap());
}

#[test]
fn the_future_is_woken_once_and_then_ready() {
    let token = CancelToken::new();
    let count = Arc::new(Count::default());
    let waker = Waker::from(Arc::clone(&count));
    let mut context = Context::from_waker(&waker);
    let mut future = Box::pin(token.cancelled());
    assert_eq!(future.as_mut().poll(&mut context), Poll::Pending);
    // Polled again with the same waker: still one registration.
    assert_eq!(future.as_mut().poll(&mut context), Poll::Pending);
    assert_eq!(token.waiters().wakers.len(), 1);
    token.cancel();
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert_eq!(future.as_mut().poll(&mut context), Poll::Ready(()));
}

#[test]
fn a_dropped_future_leaves_no_waker_behind() {
    let token = CancelToken::new();
    let waker = Waker::from(Arc::new(Count::default()));
    let mut future = Box::pin(token.cancelled());
    let _ = future.as_mut().poll(&mut Context::from_waker(&waker));
    drop(future);
    assert!(token.waiters().wakers.is_empty());
}

#[test]
fn callbacks_run_once_on_cancel_unless_their_guard_is_gone() {
    let token = CancelToken::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = |runs: &Arc<AtomicUsize>| {
        let runs = Arc::clone(runs);
        move || {
            runs.fetch_add(1, Ordering::SeqCst);
        }
    };
    let kept = token.on_cancel(counter(&runs));
    drop(token.on_cancel(counter(&runs)));
    token.cancel();
    token.cancel();
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    drop(kept);
    // Registered after the cancel: runs at once.
    let _late = token.on_cancel(counter(&runs));
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    assert!(token.waiters().callbacks.is_empty());
}
