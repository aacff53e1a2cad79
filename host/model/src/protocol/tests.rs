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
