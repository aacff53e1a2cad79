use super::*;

/// Records in memory, as a file would get them, and how many writes.
#[derive(Clone, Default)]
struct Memory(Arc<Mutex<(Vec<u8>, usize)>>);

impl Sink for Memory {
    fn write_records(&mut self, records: &[u8], dropped: u64) -> io::Result<()> {
        let mut memory = lock(&self.0);
        memory.0.extend_from_slice(records);
        if dropped > 0 {
            memory
                .0
                .extend_from_slice(format!("dropped={dropped}\n").as_bytes());
        }
        memory.1 += 1;
        Ok(())
    }
}

impl Memory {
    fn lines(&self) -> Vec<String> {
        let memory = lock(&self.0);
        String::from_utf8_lossy(&memory.0)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

fn options(when_full: WhenFull, max_queued: usize) -> Options {
    Options {
        gather: Duration::from_millis(10),
        max_queued,
        when_full,
    }
}

fn line(thread: usize, n: usize) -> String {
    format!("thread {thread} line {n:05} {}\n", "x".repeat(n % 300))
}

#[test]
fn every_record_is_written_whole_and_in_order_by_finish() {
    // Room for every record (a full queue would drop some); and a queue
    // of one byte, always full: every record is written now.
    for (when_full, max_queued) in [
        (WhenFull::Drop, 1 << 24),
        (WhenFull::WriteNow, 1 << 24),
        (WhenFull::WriteNow, 1),
    ] {
        let memory = Memory::default();
        let writer =
            WriteBehind::start("test", memory.clone(), options(when_full, max_queued)).unwrap();
        let (threads, per_thread) = (3, 2000);
        std::thread::scope(|scope| {
            for thread in 0..threads {
                let writer = &writer;
                scope.spawn(move || {
                    for n in 0..per_thread {
                        let line = line(thread, n);
                        writer
                            .append(|queue| queue.extend_from_slice(line.as_bytes()))
                            .unwrap();
                    }
                });
            }
        });
        writer.finish();
        // Once finished, a record is written at once.
        writer
            .append(|queue| queue.extend_from_slice(b"after finish\n"))
            .unwrap();
        let lines = memory.lines();
        assert_eq!(lines.len(), threads * per_thread + 1);
        assert_eq!(lines.last().map(String::as_str), Some("after finish"));
        for thread in 0..threads {
            let prefix = format!("thread {thread} ");
            let ours: Vec<&str> = lines
                .iter()
                .map(String::as_str)
                .filter(|l| l.starts_with(&prefix))
                .collect();
            let expected: Vec<String> = (0..per_thread)
                .map(|n| line(thread, n).trim_end_matches('\n').to_owned())
                .collect();
            assert_eq!(ours, expected, "a record was cut or reordered");
        }
        if max_queued > 1 {
            // Gathered: far fewer writes than records.
            assert!(lock(&memory.0).1 < threads * per_thread / 10);
        }
    }
}

#[test]
fn a_full_queue_drops_records_and_says_how_many() {
    let record = format!("{}\n", "y".repeat(999));
    let (sent, max) = (50, 10_000);
    let fit = max / record.len();
    let memory = Memory::default();
    // The writer gathers until `finish`, and cannot write before:
    // nothing leaves the queue meanwhile.
    let options = Options {
        gather: Duration::from_secs(3600),
        ..options(WhenFull::Drop, max)
    };
    let writer = WriteBehind::start("test", memory.clone(), options).unwrap();
    let held = lock(&writer.shared.sink);
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                for _ in 0..sent {
                    // Never an error, never a wait.
                    writer
                        .append(|queue| queue.extend_from_slice(record.as_bytes()))
                        .unwrap();
                }
            })
            .join()
            .unwrap();
    });
    drop(held);
    writer.finish();
    let lines = memory.lines();
    assert_eq!(lines.len(), fit + 1, "{lines:?}");
    assert!(lines[..fit].iter().all(|l| l.len() == 999));
    assert_eq!(lines[fit], format!("dropped={}", sent - fit));
}

#[test]
fn finish_all_writes_what_a_kept_handle_holds() {
    let memory = Memory::default();
    let options = Options {
        gather: Duration::from_secs(3600),
        ..options(WhenFull::Drop, 1 << 20)
    };
    let writer = WriteBehind::start("test", memory.clone(), options).unwrap();
    writer
        .append(|queue| queue.extend_from_slice(b"kept\n"))
        .unwrap();
    finish_all();
    assert_eq!(memory.lines(), ["kept"]);
    drop(writer);
}
