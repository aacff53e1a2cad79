//! A request for input from the user while a call runs (MCP's elicitation:
//! a message and a flat form), what the user answered, and the checks
//! both go through.
//!
//! The form comes from a plugin, so it is untrusted: [`parse_form`] takes
//! only what a front end can show — a JSON Schema object whose properties
//! are strings (with `email`, `uri`, `date`, `date-time` formats), numbers,
//! integers, booleans, single-choice enums (`enum`, `enumNames`, or
//! `oneOf` of `const`/`title`) and multiple-choice enums (an `array` of
//! those) — and refuses anything else naming the field, so that the plugin
//! can be told no rather than be sent something it did not ask for.
//! [`ElicitationRequest::check_answer`] checks an answer against the form
//! before it leaves wharf, whoever filled it in.

mod formats;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::CallId;

/// The most fields a form may have.
pub const MAX_FIELDS: usize = 64;
/// The most choices an enum may offer.
pub const MAX_CHOICES: usize = 256;

/// What a plugin asks the user while one of its calls runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElicitationRequest {
    /// The call that was running when the plugin asked.
    pub call_id: CallId,
    /// Who asks (an MCP server's plugin).
    pub plugin: String,
    /// The tool being called.
    pub tool: String,
    /// The plugin's message, as it sent it (escape it to show it).
    pub message: String,
    /// The fields to fill in, in the plugin's order.
    pub fields: Vec<FormField>,
}

/// One field of a form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormField {
    /// The key of the answer.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    pub kind: FieldKind,
    /// The plugin's default, kept only when it is valid for the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
}

/// What a field holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldKind {
    Text {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_length: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_length: Option<u64>,
        /// `email`, `uri`, `date`, `date-time`, or another the plugin named
        /// (shown, not checked).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        format: Option<String>,
    },
    Number {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        minimum: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        maximum: Option<f64>,
    },
    Integer {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        minimum: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        maximum: Option<f64>,
    },
    Boolean,
    /// One of `choices`.
    Choice {
        choices: Vec<Choice>,
    },
    /// Some of `choices`.
    Choices {
        choices: Vec<Choice>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_items: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_items: Option<u64>,
    },
}

/// One choice of an enum: the value sent, and what the user reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// What the user answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ElicitationAnswer {
    /// The form, filled in (fields left empty are absent).
    Accept { content: Map<String, Value> },
    /// No; the call goes on without it. `reason`, when given, says why
    /// nobody was asked (it is logged, not sent).
    Decline {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Stop what the plugin was doing.
    Cancel,
}

/// Who answers a call's elicitation requests (the pipeline makes it from
/// the session's approver). Called on the call's thread; it may block
/// until the user answers.
#[derive(Clone)]
pub struct Elicitation(
    std::sync::Arc<dyn Fn(&ElicitationRequest) -> ElicitationAnswer + Send + Sync>,
);

impl Elicitation {
    pub fn new(
        answer: impl Fn(&ElicitationRequest) -> ElicitationAnswer + Send + Sync + 'static,
    ) -> Elicitation {
        Elicitation(std::sync::Arc::new(answer))
    }

    pub fn ask(&self, request: &ElicitationRequest) -> ElicitationAnswer {
        (self.0)(request)
    }
}

impl std::fmt::Debug for Elicitation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Elicitation")
    }
}

/// The fields of `schema` (a plugin's requested schema), by name (a JSON
/// object keeps no order: the caller puts them in the plugin's), or why a
/// front end cannot show it.
pub fn parse_form(schema: &Value) -> Result<Vec<FormField>, String> {
    let Some(object) = schema.as_object() else {
        return Err("the requested schema is not a JSON object".to_owned());
    };
    if object.get("type").and_then(Value::as_str) != Some("object") {
        return Err("the requested schema is not of type `object`".to_owned());
    }
    let properties = match object.get("properties") {
        Some(Value::Object(properties)) => properties,
        None => return Ok(Vec::new()),
        Some(_) => return Err("the requested schema's `properties` is not an object".to_owned()),
    };
    if properties.len() > MAX_FIELDS {
        return Err(format!(
            "the form has {} fields, more than the {MAX_FIELDS} wharf shows",
            properties.len()
        ));
    }
    let required: Vec<&str> = match object.get("required") {
        None => Vec::new(),
        Some(Value::Array(names)) => names
            .iter()
            .map(|name| {
                name.as_str()
                    .ok_or("`required` holds a value that is not a name")
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("the requested schema's `required` is not an array".to_owned()),
    };
    if let Some(unknown) = required
        .iter()
        .find(|name| !properties.contains_key(**name))
    {
        return Err(format!(
            "`required` names `{unknown}`, which is not a field"
        ));
    }
    properties
        .iter()
        .map(|(name, property)| {
            let field = parse_field(name, property, required.contains(&name.as_str()))
                .map_err(|why| format!("field `{name}`: {why}"))?;
            Ok(field)
        })
        .collect()
}

fn parse_field(name: &str, property: &Value, required: bool) -> Result<FormField, String> {
    let Some(object) = property.as_object() else {
        return Err("its schema is not an object".to_owned());
    };
    let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_owned);
    let number = |key: &str| object.get(key).and_then(Value::as_f64);
    let count = |key: &str| object.get(key).and_then(Value::as_u64);
    let kind = match object.get("type").and_then(Value::as_str) {
        Some("string") => match choices(object)? {
            Some(choices) => FieldKind::Choice { choices },
            None => FieldKind::Text {
                min_length: count("minLength"),
                max_length: count("maxLength"),
                format: text("format"),
            },
        },
        Some("number") => FieldKind::Number {
            minimum: number("minimum"),
            maximum: number("maximum"),
        },
        Some("integer") => FieldKind::Integer {
            minimum: number("minimum"),
            maximum: number("maximum"),
        },
        Some("boolean") => FieldKind::Boolean,
        Some("array") => {
            let items = object.get("items").and_then(Value::as_object);
            let Some(choices) = items.map(choices).transpose()?.flatten() else {
                return Err("an array whose items are not an enum of strings".to_owned());
            };
            FieldKind::Choices {
                choices,
                min_items: count("minItems"),
                max_items: count("maxItems"),
            }
        }
        Some(other) => return Err(format!("type `{other}` is not one a form can show")),
        None => return Err("it has no `type`".to_owned()),
    };
    let mut field = FormField {
        name: name.to_owned(),
        title: text("title"),
        description: text("description"),
        required,
        kind,
        default: None,
    };
    field.default = object
        .get("default")
        .filter(|default| field.check(default).is_ok())
        .cloned();
    Ok(field)
}

/// The choices of an enum schema (`enum` with optional `enumNames`, or
/// `oneOf`/`anyOf` of `const` and `title`); `None` when it is no enum.
fn choices(object: &Map<String, Value>) -> Result<Option<Vec<Choice>>, String> {
    let choices: Vec<Choice> = if let Some(values) = object.get("enum") {
        let Some(values) = values.as_array() else {
            return Err("its `enum` is not an array".to_owned());
        };
        let names = object.get("enumNames").and_then(Value::as_array);
        values
            .iter()
            .enumerate()
            .map(|(at, value)| {
                let value = value
                    .as_str()
                    .ok_or("its `enum` holds a value that is not a string")?;
                let label = names
                    .and_then(|names| names.get(at))
                    .and_then(Value::as_str)
                    .unwrap_or(value);
                Ok(Choice {
                    value: value.to_owned(),
                    label: label.to_owned(),
                })
            })
            .collect::<Result<_, String>>()?
    } else if let Some(options) = object.get("oneOf").or_else(|| object.get("anyOf")) {
        let Some(options) = options.as_array() else {
            return Err("its `oneOf` is not an array".to_owned());
        };
        options
            .iter()
            .map(|option| {
                let value = option
                    .get("const")
                    .and_then(Value::as_str)
                    .ok_or("a choice of its `oneOf` has no string `const`")?;
                let label = option.get("title").and_then(Value::as_str).unwrap_or(value);
                Ok(Choice {
                    value: value.to_owned(),
                    label: label.to_owned(),
                })
            })
            .collect::<Result<_, String>>()?
    } else {
        return Ok(None);
    };
    if choices.is_empty() {
        return Err("an enum with no choices".to_owned());
    }
    if choices.len() > MAX_CHOICES {
        return Err(format!(
            "an enum of {} choices, more than the {MAX_CHOICES} wharf shows",
            choices.len()
        ));
    }
    Ok(Some(choices))
}

impl FormField {
    /// What people call the field: its title, else its name.
    pub fn label(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.name)
    }

    /// Whether `value` is a valid answer for the field, or why not.
    pub fn check(&self, value: &Value) -> Result<(), String> {
        match &self.kind {
            FieldKind::Text {
                min_length,
                max_length,
                format,
            } => {
                let text = value.as_str().ok_or("expected text")?;
                let length = text.chars().count() as u64;
                if let Some(min) = min_length.filter(|min| length < *min) {
                    return Err(format!("at least {min} characters"));
                }
                if let Some(max) = max_length.filter(|max| length > *max) {
                    return Err(format!("at most {max} characters"));
                }
                match format.as_deref() {
                    Some(format) => formats::check(format, text),
                    None => Ok(()),
                }
            }
            FieldKind::Number { minimum, maximum } => {
                let number = value.as_f64().ok_or("expected a number")?;
                in_range(number, *minimum, *maximum)
            }
            FieldKind::Integer { minimum, maximum } => {
                if !(value.is_i64() || value.is_u64()) {
                    return Err("expected a whole number".to_owned());
                }
                in_range(value.as_f64().unwrap_or_default(), *minimum, *maximum)
            }
            FieldKind::Boolean => value
                .as_bool()
                .map(drop)
                .ok_or_else(|| "expected yes or no".to_owned()),
            FieldKind::Choice { choices } => {
                let text = value.as_str().unwrap_or_default();
                match choices.iter().any(|choice| choice.value == text) {
                    true => Ok(()),
                    false => Err("not one of the choices".to_owned()),
                }
            }
            FieldKind::Choices {
                choices,
                min_items,
                max_items,
            } => {
                let picked = value.as_array().ok_or("expected a list of choices")?;
                let known = |item: &Value| {
                    let item = item.as_str().unwrap_or_default();
                    choices.iter().any(|choice| choice.value == item)
                };
                if !picked.iter().all(known) {
                    return Err("not one of the choices".to_owned());
                }
                let count = picked.len() as u64;
                if let Some(min) = min_items.filter(|min| count < *min) {
                    return Err(format!("pick at least {min}"));
                }
                if let Some(max) = max_items.filter(|max| count > *max) {
                    return Err(format!("pick at most {max}"));
                }
                Ok(())
            }
        }
    }

    /// The value of `text` typed into a text, number or integer field
    /// (`None`: left empty), checked.
    pub fn value_of_text(&self, text: &str) -> Result<Option<Value>, String> {
        if text.is_empty() {
            return Ok(None);
        }
        let value = match &self.kind {
            FieldKind::Number { .. } => {
                let number: f64 = text.trim().parse().map_err(|_| "expected a number")?;
                serde_json::Number::from_f64(number)
                    .map(Value::Number)
                    .ok_or("expected a finite number")?
            }
            FieldKind::Integer { .. } => {
                let number: i64 = text.trim().parse().map_err(|_| "expected a whole number")?;
                Value::from(number)
            }
            _ => Value::String(text.to_owned()),
        };
        self.check(&value)?;
        Ok(Some(value))
    }
}

fn in_range(number: f64, minimum: Option<f64>, maximum: Option<f64>) -> Result<(), String> {
    if let Some(min) = minimum.filter(|min| number < *min) {
        return Err(format!("at least {min}"));
    }
    if let Some(max) = maximum.filter(|max| number > *max) {
        return Err(format!("at most {max}"));
    }
    Ok(())
}

impl ElicitationRequest {
    /// Whether `content` answers the form: every required field present,
    /// every value valid, no field the form does not have.
    pub fn check_answer(&self, content: &Map<String, Value>) -> Result<(), String> {
        if let Some(unknown) = content
            .keys()
            .find(|key| !self.fields.iter().any(|field| field.name == **key))
        {
            return Err(format!("`{unknown}` is not a field of the form"));
        }
        for field in &self.fields {
            match content.get(&field.name) {
                Some(value) => field
                    .check(value)
                    .map_err(|why| format!("{}: {why}", field.label()))?,
                None if field.required => {
                    return Err(format!("{} is required", field.label()));
                }
                None => {}
            }
        }
        Ok(())
    }
}
