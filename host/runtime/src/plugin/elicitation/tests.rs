use serde_json::{Value, json};

use super::*;

/// A form like the ones MCP servers send: one field of each kind.
fn every_kind() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "title": "Name", "minLength": 2},
            "email": {"type": "string", "format": "email"},
            "born": {"type": "string", "format": "date"},
            "age": {"type": "integer", "minimum": 1, "maximum": 100, "default": 42},
            "ratio": {"type": "number", "minimum": 0, "maximum": 1, "default": 7},
            "agree": {"type": "boolean"},
            "pet": {"type": "string", "enum": ["p1", "p2"], "enumNames": ["Cats", "Dogs"]},
            "hero": {"type": "string", "oneOf": [{"const": "h1", "title": "Superman"}]},
            "fish": {
                "type": "array", "minItems": 1, "maxItems": 2,
                "items": {"anyOf": [{"const": "f1", "title": "Tuna"}, {"const": "f2"}, {"const": "f3"}]}
            },
            "tools": {"type": "array", "items": {"type": "string", "enum": ["saw"]}}
        },
        "required": ["name", "agree"]
    })
}

#[test]
fn every_kind_of_field_is_read() {
    let fields = parse_form(&every_kind()).unwrap();
    let shown: Vec<String> = fields
        .iter()
        .map(|field| {
            let kind = serde_json::to_value(&field.kind).unwrap();
            let required = if field.required { "*" } else { "" };
            let default = field
                .default
                .as_ref()
                .map(|d| format!(" = {d}"))
                .unwrap_or_default();
            format!(
                "{}{required} {}: {kind}{default}",
                field.name,
                field.label()
            )
        })
        .collect();
    let expected = [
        r#"age age: {"maximum":100.0,"minimum":1.0,"type":"integer"} = 42"#,
        r#"agree* agree: {"type":"boolean"}"#,
        r#"born born: {"format":"date","type":"text"}"#,
        r#"email email: {"format":"email","type":"text"}"#,
        r#"fish fish: {"choices":[{"label":"Tuna","value":"f1"},{"label":"f2","value":"f2"},{"label":"f3","value":"f3"}],"max_items":2,"min_items":1,"type":"choices"}"#,
        r#"hero hero: {"choices":[{"label":"Superman","value":"h1"}],"type":"choice"}"#,
        r#"name* Name: {"min_length":2,"type":"text"}"#,
        r#"pet pet: {"choices":[{"label":"Cats","value":"p1"},{"label":"Dogs","value":"p2"}],"type":"choice"}"#,
        r#"ratio ratio: {"maximum":1.0,"minimum":0.0,"type":"number"}"#,
        r#"tools tools: {"choices":[{"label":"saw","value":"saw"}],"type":"choices"}"#,
    ];
    // By name: a JSON object keeps no order (the caller orders them);
    // `ratio`'s default is out of range, and dropped.
    assert_eq!(shown, expected);
}

#[test]
fn schemas_a_form_cannot_show_are_refused_naming_the_field() {
    let cases = [
        (json!([]), "the requested schema is not a JSON object"),
        (
            json!({"type": "string"}),
            "the requested schema is not of type `object`",
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "object", "properties": {}}}}),
            "field `a`: type `object` is not one a form can show",
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "array", "items": {"type": "number"}}}}),
            "field `a`: an array whose items are not an enum of strings",
        ),
        (
            json!({"type": "object", "properties": {"a": {"enum": ["x"]}}}),
            "field `a`: it has no `type`",
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "string", "enum": [1]}}}),
            "field `a`: its `enum` holds a value that is not a string",
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "string", "enum": []}}}),
            "field `a`: an enum with no choices",
        ),
        (
            json!({"type": "object", "properties": {}, "required": ["ghost"]}),
            "`required` names `ghost`, which is not a field",
        ),
    ];
    for (schema, expected) in cases {
        assert_eq!(parse_form(&schema).unwrap_err(), expected, "{schema}");
    }
    let many: Map<String, Value> = (0..=MAX_FIELDS)
        .map(|at| (format!("f{at}"), json!({"type": "boolean"})))
        .collect();
    let error = parse_form(&json!({"type": "object", "properties": many})).unwrap_err();
    assert_eq!(
        error,
        "the form has 65 fields, more than the 64 wharf shows"
    );
}

#[test]
fn typed_text_is_checked_for_its_field() {
    let fields = parse_form(&every_kind()).unwrap();
    let field = |name: &str| fields.iter().find(|f| f.name == name).unwrap();
    // (field, typed, what it is)
    type Case = (
        &'static str,
        &'static str,
        Result<Option<Value>, &'static str>,
    );
    let cases: [Case; 14] = [
        ("name", "", Ok(None)),
        ("name", "A", Err("at least 2 characters")),
        ("name", "Ada", Ok(Some(json!("Ada")))),
        (
            "email",
            "ada@example.com",
            Ok(Some(json!("ada@example.com"))),
        ),
        (
            "email",
            "ada",
            Err("expected an email address (name@example.com)"),
        ),
        ("born", "1815-12-10", Ok(Some(json!("1815-12-10")))),
        ("born", "1815-02-30", Err("expected a date (YYYY-MM-DD)")),
        ("age", "7", Ok(Some(json!(7)))),
        ("age", "7.5", Err("expected a whole number")),
        ("age", "0", Err("at least 1")),
        ("ratio", "0.5", Ok(Some(json!(0.5)))),
        ("ratio", "2", Err("at most 1")),
        ("ratio", "NaN", Err("expected a finite number")),
        ("ratio", "x", Err("expected a number")),
    ];
    for (name, text, expected) in cases {
        let got = field(name).value_of_text(text);
        assert_eq!(got, expected.map_err(str::to_owned), "{name} = {text:?}");
    }
}

#[test]
fn answers_are_checked_against_the_whole_form() {
    let request = ElicitationRequest {
        call_id: "c1".into(),
        plugin: "mcp-srv".to_owned(),
        tool: "t".to_owned(),
        message: "who?".to_owned(),
        fields: parse_form(&every_kind()).unwrap(),
    };
    let cases = [
        (json!({"name": "Ada", "agree": true}), Ok(())),
        (
            json!({"name": "Ada", "agree": true, "pet": "p2", "fish": ["f1", "f3"]}),
            Ok(()),
        ),
        (json!({"agree": true}), Err("Name is required")),
        (
            json!({"name": "Ada", "agree": "yes"}),
            Err("agree: expected yes or no"),
        ),
        (
            json!({"name": "Ada", "agree": true, "pet": "p3"}),
            Err("pet: not one of the choices"),
        ),
        (
            json!({"name": "Ada", "agree": true, "fish": []}),
            Err("fish: pick at least 1"),
        ),
        (
            json!({"name": "Ada", "agree": true, "fish": ["f1", "f2", "f3"]}),
            Err("fish: pick at most 2"),
        ),
        (
            json!({"name": "Ada", "agree": true, "extra": 1}),
            Err("`extra` is not a field of the form"),
        ),
    ];
    for (content, expected) in cases {
        let Value::Object(content) = content else {
            unreachable!()
        };
        assert_eq!(
            request.check_answer(&content),
            expected.map_err(str::to_owned),
            "{content:?}"
        );
    }
}

#[test]
fn date_times_follow_rfc_3339() {
    for (text, valid) in [
        ("2026-12-07T20:53:14Z", true),
        ("2026-12-07T20:53:14.5+01:00", true),
        ("2026-12-07 20:53:14Z", false),
        ("2026-12-07T24:00:00Z", false),
        ("2026-12-07T20:53Z", false),
        ("2026-12-07T20:53:14", false),
    ] {
        assert_eq!(formats::check("date-time", text).is_ok(), valid, "{text}");
    }
    for (text, valid) in [
        ("https://example.com", true),
        ("example.com", false),
        ("a b:c", false),
    ] {
        assert_eq!(formats::check("uri", text).is_ok(), valid, "{text}");
    }
}
