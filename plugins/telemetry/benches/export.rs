//! What exporting costs: 10 000 `wharf.tool_result`-like events through
//! the export layer to a real OTLP collector on loopback (OTLP over HTTP,
//! protobuf), flushed at the end. Prints the CPU time wharf's side spent —
//! emitting, the exporter's threads, the flush — against the issue's
//! budget of 50 ms, and the cost on the thread that emits, per event.
//! Asserts no time; checks that every event arrived.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt as _;
use wharf_plugin_telemetry::{ExportLayer, Exporter, Service, Settings, Telemetry};
use wharf_tests::otlp_receiver::OtlpReceiver;

const EVENTS: usize = 10_000;
/// Events emitted between two waits for the collector: the batch queue
/// (2 048 records) drops what does not fit, as it should in a session.
const ROUND: usize = 1_000;

fn main() {
    let receiver = OtlpReceiver::http().expect("the collector starts");
    let settings = Settings {
        environment: "bench".to_owned(),
        exporter: Exporter::OtlpHttp {
            endpoint: receiver.http_endpoint(),
            headers: Default::default(),
            json: false,
            tls: Default::default(),
        },
        flush_timeout: Duration::from_secs(5),
    };
    let service = Service {
        name: "wharf".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let (layer, telemetry) = Telemetry::start(&settings, &service).expect("the exporter builds");
    let subscriber =
        tracing_subscriber::registry().with(layer.with_filter(filter_fn(ExportLayer::exports)));
    let collector = collector_thread();
    let me = thread_id();

    let threads_before = threads();
    let mut emitting = Duration::ZERO;
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!(
            target: "wharf.turn",
            "turn",
            model = "gpt-5.1-codex",
            conversation.id = "0199a7c2-5a1e-7f10-9f0e-5b1d2c3e4f50"
        );
        let _entered = span.enter();
        for round in 0..EVENTS / ROUND {
            let started = thread_self_cpu();
            for i in 0..ROUND {
                tool_result(round * ROUND + i);
            }
            emitting += thread_self_cpu() - started;
            wait_for(&receiver, (round + 1) * ROUND);
        }
    });
    // Every record arrived: what the exporter's threads (the batch thread,
    // the HTTP client's) spent is all there is to count beside the
    // emitting; this thread's waits and the collector's work are not.
    let threads_after = threads();
    let exporter: Duration = threads_after
        .iter()
        .filter(|(tid, _)| *tid != me && *tid != collector)
        .map(|(tid, after)| {
            let before = threads_before
                .iter()
                .find(|(t, _)| t == tid)
                .map_or(Duration::ZERO, |(_, cpu)| *cpu);
            after.saturating_sub(before)
        })
        .sum();
    let flush_started = thread_self_cpu();
    telemetry.shutdown();
    let flush = thread_self_cpu() - flush_started;
    let exported = receiver.record_count();
    assert_eq!(exported, EVENTS, "every event reaches the collector");
    let total = emitting + exporter + flush;
    println!(
        "export of {EVENTS} events over OTLP/HTTP: {:.1} ms CPU (target ≤ 50 ms): {:.1} ms \
         emitting ({:.2} µs per event, on the thread that emits), {:.1} ms in the exporter's \
         threads, {:.1} ms flushing at exit",
        total.as_secs_f64() * 1e3,
        emitting.as_secs_f64() * 1e3,
        emitting.as_secs_f64() * 1e6 / EVENTS as f64,
        exporter.as_secs_f64() * 1e3,
        flush.as_secs_f64() * 1e3,
    );
}

/// An event with the fields `wharf.tool_result` has.
fn tool_result(i: usize) {
    tracing::info!(
        target: "wharf.tool_result",
        tool_name = "exec_command",
        call_id = "call_8f2d",
        plugin = "unified-exec",
        success = true,
        duration_ms = i as u64 % 97,
        checks_ms = 0u64,
        invoke_ms = 3u64,
        apply_ms = 0u64,
        output_bytes = 1234u64,
        files_changed = 0u64,
    );
}

fn wait_for(receiver: &OtlpReceiver, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while receiver.record_count() < count && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The collector's thread id in this process (by its name).
fn collector_thread() -> u32 {
    let tasks = std::fs::read_dir("/proc/self/task").expect("/proc/self/task");
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() == "otlp-receiver"
            && let Some(tid) = task.file_name().to_str().and_then(|t| t.parse().ok())
        {
            return tid;
        }
    }
    panic!("the collector's thread is not found");
}

/// A thread's CPU time, from its schedstat (nanoseconds on the CPU).
fn thread_cpu(tid: u32) -> Duration {
    let stat =
        std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")).unwrap_or_default();
    let nanos = stat
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(nanos)
}

/// Every thread of this process and its CPU time so far.
fn threads() -> Vec<(u32, Duration)> {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .flatten()
        .filter_map(|task| task.file_name().to_str()?.parse().ok())
        .map(|tid| (tid, thread_cpu(tid)))
        .collect()
}

fn thread_id() -> u32 {
    // SAFETY: gettid has no preconditions.
    let tid = unsafe { libc::gettid() };
    u32::try_from(tid).expect("a thread id is positive")
}

fn thread_self_cpu() -> Duration {
    rusage(libc::RUSAGE_THREAD)
}

fn rusage(who: libc::c_int) -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` is a valid place for one `rusage`, which getrusage
    // fills; it was zeroed, so it is initialized whatever the call does.
    let usage = unsafe {
        libc::getrusage(who, usage.as_mut_ptr());
        usage.assume_init()
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}
