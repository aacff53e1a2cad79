//! What watching a call costs: the trivial call with the audit log
//! writing its record and wharf's log at its default filter, beside the
//! same call with neither, in the same run (the budget: ≤ 5 µs
//! more at p50). Installs the log subscriber for the whole process, so it
//! runs last.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wharf_config::Config;
use wharf_host::audit::AuditLog;
use wharf_runtime::pipeline::{self, Session};
use wharf_runtime::registry::Plugins;

const ROUNDS: usize = 20_000;

pub fn observed_calls(
    plugins: &Arc<Plugins>,
    session: &Arc<Session>,
    config: &Config,
    root: &Path,
) {
    let call = super::echo_call("echo_text");
    let run = |audit: Option<&AuditLog>| -> Vec<Duration> {
        for _ in 0..1000 {
            let resolved = pipeline::resolve(plugins, &call).unwrap();
            let outcome = pipeline::run(plugins, session, &resolved, None);
            if let Some(audit) = audit {
                audit.record(session, &call, Some(&resolved), &outcome);
            }
        }
        (0..ROUNDS)
            .map(|_| {
                let started = Instant::now();
                let resolved = pipeline::resolve(plugins, &call).unwrap();
                let outcome = pipeline::run(plugins, session, &resolved, None);
                if let Some(audit) = audit {
                    assert!(
                        audit
                            .record(session, &call, Some(&resolved), &outcome)
                            .is_none()
                    );
                }
                let elapsed = started.elapsed();
                assert!(outcome.result.is_ok());
                elapsed
            })
            .collect()
    };
    let off = run(None);
    let home = root.join("observed-home");
    super::logging::init(Some(&home));
    let audit = AuditLog::new(home.join("audit"), config, 64 * 1024 * 1024, 2);
    let on = run(Some(&audit));
    let p50 = |mut samples: Vec<Duration>| {
        samples.sort();
        super::percentile(&samples, 0.5)
    };
    let (off, on) = (p50(off), p50(on));
    println!(
        "trivial call, audit log and wharf's log on vs off: p50 {:.1} µs vs {:.1} µs, \
         +{:.1} µs (target ≤ +5 µs)",
        on.as_secs_f64() * 1e6,
        off.as_secs_f64() * 1e6,
        on.saturating_sub(off).as_secs_f64() * 1e6,
    );
    let log = std::fs::metadata(home.join("log").join("wharf.log")).map_or(0, |m| m.len());
    println!(
        "  wharf.log grew to {log} bytes over {} calls",
        ROUNDS + 1000
    );
}
