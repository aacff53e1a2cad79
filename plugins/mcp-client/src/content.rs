//! rmcp's tool results as [`CallResult`]s: every content kind, binary data
//! decoded.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rmcp::model::{CallToolResult, ContentBlock, ResourceContents};

use crate::{CallResult, ResultContent};

pub(crate) fn convert(result: CallToolResult) -> CallResult {
    CallResult {
        content: result.content.into_iter().map(block).collect(),
        is_error: result.is_error.unwrap_or(false),
        structured: result.structured_content,
    }
}

fn block(block: ContentBlock) -> ResultContent {
    match block {
        ContentBlock::Text(text) => ResultContent::Text(text.text),
        ContentBlock::Image(image) => match decode(&image.data) {
            Ok(data) => ResultContent::Image {
                mime_type: image.mime_type,
                data,
            },
            Err(err) => invalid("image", &image.mime_type, err),
        },
        ContentBlock::Audio(audio) => match decode(&audio.data) {
            Ok(data) => ResultContent::Audio {
                mime_type: audio.mime_type,
                data,
            },
            Err(err) => invalid("audio", &audio.mime_type, err),
        },
        ContentBlock::Resource(embedded) => match embedded.resource {
            ResourceContents::TextResourceContents {
                uri,
                mime_type,
                text,
                ..
            } => ResultContent::Resource {
                uri,
                mime_type,
                text: Some(text),
                blob: None,
            },
            ResourceContents::BlobResourceContents {
                uri,
                mime_type,
                blob,
                ..
            } => match decode(&blob) {
                Ok(blob) => ResultContent::Resource {
                    uri,
                    mime_type,
                    text: None,
                    blob: Some(blob),
                },
                Err(err) => invalid("resource", &uri, err),
            },
            other => ResultContent::Text(serde_json::to_string(&other).unwrap_or_default()),
        },
        ContentBlock::ResourceLink(link) => ResultContent::ResourceLink {
            uri: link.uri,
            name: link.name,
            description: link.description,
        },
        // A kind newer than this client: its JSON, so nothing is lost.
        other => ResultContent::Text(serde_json::to_string(&other).unwrap_or_default()),
    }
}

fn decode(data: &str) -> Result<Vec<u8>, base64::DecodeError> {
    STANDARD.decode(data.trim())
}

/// Binary content that is not base64: said in the result, where the model
/// and the user see it, rather than dropped.
fn invalid(kind: &str, what: &str, err: base64::DecodeError) -> ResultContent {
    ResultContent::Text(format!(
        "[the server sent {kind} content ({what}) whose data is not valid base64: {err}]"
    ))
}

#[cfg(test)]
mod tests {
    use rmcp::model::Resource;

    use super::*;

    fn result(content: Vec<ContentBlock>) -> CallToolResult {
        CallToolResult::success(content)
    }

    #[test]
    fn every_kind_is_mapped() {
        let link = ContentBlock::ResourceLink(Resource::new("file:///a.txt", "a.txt"));
        let converted = convert(result(vec![
            ContentBlock::text("hi"),
            ContentBlock::image("aGk=", "image/png"),
            ContentBlock::audio("aGk=", "audio/wav"),
            ContentBlock::embedded_text("file:///b.txt", "bee"),
            ContentBlock::resource(ResourceContents::BlobResourceContents {
                uri: "file:///c.bin".to_owned(),
                mime_type: None,
                blob: "AAE=".to_owned(),
                meta: None,
            }),
            link,
        ]));
        assert!(!converted.is_error);
        assert_eq!(
            converted.content,
            [
                ResultContent::Text("hi".to_owned()),
                ResultContent::Image {
                    mime_type: "image/png".to_owned(),
                    data: b"hi".to_vec()
                },
                ResultContent::Audio {
                    mime_type: "audio/wav".to_owned(),
                    data: b"hi".to_vec()
                },
                ResultContent::Resource {
                    uri: "file:///b.txt".to_owned(),
                    mime_type: Some("text/plain".to_owned()),
                    text: Some("bee".to_owned()),
                    blob: None
                },
                ResultContent::Resource {
                    uri: "file:///c.bin".to_owned(),
                    mime_type: None,
                    text: None,
                    blob: Some(vec![0, 1])
                },
                ResultContent::ResourceLink {
                    uri: "file:///a.txt".to_owned(),
                    name: "a.txt".to_owned(),
                    description: None
                },
            ]
        );
    }

    #[test]
    fn errors_and_structured_content_pass_through() {
        let mut failed = CallToolResult::error(vec![ContentBlock::text("bad")]);
        failed.structured_content = Some(serde_json::json!({"n": 1}));
        let converted = convert(failed);
        assert!(converted.is_error);
        assert_eq!(converted.structured, Some(serde_json::json!({"n": 1})));
    }

    #[test]
    fn bad_base64_is_reported_in_the_result() {
        let converted = convert(result(vec![ContentBlock::image(
            "not base64!",
            "image/png",
        )]));
        let [ResultContent::Text(text)] = converted.content.as_slice() else {
            panic!("{:?}", converted.content);
        };
        assert!(
            text.contains("image/png") && text.contains("not valid base64"),
            "{text}"
        );
    }
}
