//! What watching a call costs: the trivial call with the audit log
//! writing its record, wharf's log at its default filter and the
//! OpenTelemetry exporter (to a collector on loopback), beside the same call with
//! neither, in the same run (the budget: ≤ 5 µs more at p50); and
//! what each costs alone. The four are measured in turns, a block of calls
//! each, so that what else the machine does weighs on all alike; "off"
//! keeps the subscriber from this thread (`Dispatch::none`). Installs the
//! log subscriber for the whole process, so it runs last.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::Dispatch;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::filter_fn;
use wharf_config::Config;
use wharf_host::audit::AuditLog;
use wharf_plugin_telemetry::{ExportLayer, Exporter as Collector, Service, Settings, Telemetry};
use wharf_runtime::pipeline::{self, Session};
use wharf_runtime::registry::Plugins;
use wharf_tests::otlp_receiver::OtlpReceiver;

use super::logging::{Exporter, Shutdown};

/// Calls per turn, and turns.
const BLOCK: usize = 500;
const TURNS: usize = 40;

/// The exporter measured with wharf's log, as `init` takes it: OTLP over
/// HTTP to `collector` (`None` if it cannot be built: the log alone).
fn exporter_for_bench(collector: &OtlpReceiver) -> Option<(Exporter, Shutdown)> {
    let settings = Settings {
        environment: "bench".to_owned(),
        exporter: Collector::OtlpHttp {
            endpoint: collector.http_endpoint(),
            headers: Default::default(),
            json: false,
            tls: Default::default(),
        },
        flush_timeout: Duration::from_secs(2),
    };
    let service = Service {
        name: "wharf".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let (layer, telemetry) = Telemetry::start(&settings, &service).ok()?;
    let layer = layer.with_filter(filter_fn(ExportLayer::exports));
    Some((Box::new(layer), Box::new(move || telemetry.shutdown())))
}

/// What a turn watches the calls with.
#[derive(Clone, Copy)]
struct Watch {
    audit: bool,
    log: bool,
}

/// The CPU time this thread has used.
fn thread_cpu() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

pub fn observed_calls(
    plugins: &Arc<Plugins>,
    session: &Arc<Session>,
    config: &Config,
    root: &Path,
) {
    let call = super::echo_call("echo_text");
    let home = root.join("observed-home");
    let audit = AuditLog::new(home.join("audit"), config, 64 * 1024 * 1024, 2);
    let collector = OtlpReceiver::http().unwrap();
    let exporter = exporter_for_bench(&collector);
    let exporting = if exporter.is_some() {
        " and the exporter"
    } else {
        ""
    };
    super::logging::init(Some(&home), exporter);
    let none = Dispatch::none();
    let block = |watch: Watch, samples: &mut Vec<(Duration, Duration)>| {
        let mut calls = || {
            for _ in 0..BLOCK {
                let started = Instant::now();
                let cpu = thread_cpu();
                let resolved = pipeline::resolve(plugins, &call).unwrap();
                let outcome = pipeline::run(plugins, session, &resolved, None);
                if watch.audit {
                    assert!(
                        audit
                            .record(session, &call, Some(&resolved), &outcome)
                            .is_none()
                    );
                }
                let wall = started.elapsed();
                samples.push((wall, thread_cpu().saturating_sub(cpu)));
                assert!(outcome.result.is_ok());
            }
        };
        if watch.log {
            calls();
        } else {
            tracing::dispatcher::with_default(&none, calls);
        }
    };
    let watches = [
        Watch {
            audit: false,
            log: false,
        },
        Watch {
            audit: true,
            log: false,
        },
        Watch {
            audit: false,
            log: true,
        },
        Watch {
            audit: true,
            log: true,
        },
    ];
    let mut samples: [Vec<(Duration, Duration)>; 4] = Default::default();
    // Warm, the log's turns first: the events' callsites are registered
    // while the subscriber is this thread's (under `Dispatch::none` they
    // would be cached as of interest to no one).
    for watch in watches.iter().rev() {
        block(*watch, &mut Vec::new());
    }
    for _ in 0..TURNS {
        for (watch, samples) in watches.iter().zip(&mut samples) {
            block(*watch, samples);
        }
    }
    // Wall time, and this thread's CPU time: the second leaves out what
    // the writer and export threads take from the call thread when they
    // run on its core (a 2-core machine has no core to spare for them).
    let p50 = |samples: &[(Duration, Duration)], pick: fn(&(Duration, Duration)) -> Duration| {
        let mut picked: Vec<Duration> = samples.iter().map(pick).collect();
        picked.sort();
        super::percentile(&picked, 0.5)
    };
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    for (what, pick) in [
        ("wall", (|s: &(Duration, Duration)| s.0) as fn(&_) -> _),
        ("call thread's CPU", |s: &(Duration, Duration)| s.1),
    ] {
        let [off, audit_alone, log_alone, on] = [0, 1, 2, 3].map(|n| p50(&samples[n], pick));
        let more = |d: Duration| micros(d.saturating_sub(off));
        println!(
            "trivial call ({what}), audit log and wharf's log{exporting} on vs off: p50 {:.1} µs \
             vs {:.1} µs, +{:.1} µs (target ≤ +5 µs)",
            micros(on),
            micros(off),
            more(on),
        );
        println!(
            "  alone: the audit log +{:.1} µs, wharf's log{exporting} +{:.1} µs",
            more(audit_alone),
            more(log_alone),
        );
    }
    super::logging::shutdown();
    let log: u64 = ["wharf.log", "wharf.log.1"]
        .iter()
        .map(|name| std::fs::metadata(home.join("log").join(name)).map_or(0, |m| m.len()))
        .sum();
    let logged = 2 * (TURNS + 1) * BLOCK;
    println!(
        "  wharf's log: {log} bytes for {logged} calls ({} bytes a call)",
        log / logged as u64
    );
}
