#![allow(clippy::unwrap_used)]

use std::time::Duration;

use super::*;

#[test]
fn a_stream_delivers_events_in_order_and_stops_its_producer_when_dropped() {
    let (tx, rx) = ResponseStream::channel();
    assert!(tx.send(Ok(ResponseEvent::Created)));
    assert!(tx.send(Ok(ResponseEvent::OutputTextDelta {
        delta: "hi".to_owned()
    })));
    assert_eq!(
        rx.next_timeout(Duration::from_millis(10)).unwrap(),
        Some(Ok(ResponseEvent::Created))
    );
    assert!(matches!(
        rx.next_timeout(Duration::from_millis(10)).unwrap(),
        Some(Ok(ResponseEvent::OutputTextDelta { .. }))
    ));
    assert_eq!(
        rx.next_timeout(Duration::from_millis(10)).unwrap_err(),
        ModelError::Idle(Duration::from_millis(10))
    );
    drop(rx);
    assert!(tx.is_cancelled());
    assert!(!tx.send(Ok(ResponseEvent::Created)));
}

#[test]
fn an_interrupt_wakes_a_blocked_consumer_and_stops_the_producer() {
    let (tx, mut rx) = ResponseStream::channel();
    let interrupt = rx.interrupt();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let consumer = std::thread::spawn(move || {
        ready_tx.send(()).unwrap();
        // Blocks: the producer sends nothing and stays alive.
        rx.next()
    });
    ready_rx.recv().unwrap();
    interrupt.interrupt();
    interrupt.interrupt();
    assert_eq!(consumer.join().unwrap(), Some(Err(ModelError::Cancelled)));
    assert!(tx.is_cancelled());
    assert!(!tx.send(Ok(ResponseEvent::Created)));
}

#[test]
fn a_cancelled_stream_still_ends_when_its_producer_does() {
    let (tx, rx) = ResponseStream::channel();
    assert!(tx.send(Ok(ResponseEvent::Created)));
    rx.cancel();
    assert!(tx.is_cancelled());
    drop(tx);
    assert_eq!(
        rx.next_timeout(Duration::ZERO).unwrap(),
        Some(Ok(ResponseEvent::Created))
    );
    assert_eq!(rx.next_timeout(Duration::ZERO).unwrap(), None);
}

#[test]
fn items_have_a_stable_json_form() {
    let item = ResponseItem::FunctionCall {
        call_id: "c1".to_owned(),
        name: "exec_command".to_owned(),
        arguments: r#"{"cmd":"ls"}"#.to_owned(),
    };
    let json = serde_json::to_value(&item).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"type": "function_call", "call_id": "c1", "name": "exec_command", "arguments": "{\"cmd\":\"ls\"}"})
    );
    assert_eq!(serde_json::from_value::<ResponseItem>(json).unwrap(), item);
}

/// An attached image's type comes from its bytes, never its name; what is
/// not an image the providers read is refused.
#[test]
fn input_images_are_told_by_their_first_bytes() {
    let cases: [(&[u8], Option<&str>); 9] = [
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", Some("image/png")),
        (&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10], Some("image/jpeg")),
        (b"GIF89a\x01\0\x01\0", Some("image/gif")),
        (b"GIF87a\x01\0\x01\0", Some("image/gif")),
        (b"RIFF\x24\0\0\0WEBPVP8 ", Some("image/webp")),
        (b"RIFF\x24\0\0\0WAVEfmt ", None),
        (b"\x89PNG", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"", None),
    ];
    for (bytes, expected) in cases {
        let image = InputImage::from_bytes(bytes);
        assert_eq!(
            image.as_ref().map(|image| image.mime_type.as_str()),
            expected,
            "{bytes:?}"
        );
    }
    let image = InputImage::from_bytes(b"GIF89a").unwrap();
    assert_eq!(image.data_url(), "data:image/gif;base64,R0lGODlh");
}
