//! An MCP result as wharf content.

use wharf_plugin_mcp_client::ResultContent;
use wharf_runtime::plugin::Content;

/// A block of an MCP result as wharf content. Images stay images (the
/// model-capabilities stage turns them into a placeholder for text-only
/// models); what a model cannot take directly (audio, binary resources)
/// becomes a line saying what it was.
pub(crate) fn content(block: ResultContent) -> Content {
    match block {
        ResultContent::Text(text) => Content::Text(text),
        ResultContent::Image { mime_type, data } => Content::Image { mime_type, data },
        ResultContent::Audio { mime_type, data } => {
            Content::Text(format!("[audio: {mime_type}, {} bytes]", data.len()))
        }
        ResultContent::Resource {
            uri,
            mime_type,
            text,
            blob,
        } => match (text, blob) {
            (Some(text), _) => Content::Text(text),
            (None, Some(blob)) => Content::Text(format!(
                "[resource {uri}: {}, {} bytes]",
                mime_type.as_deref().unwrap_or("binary"),
                blob.len()
            )),
            (None, None) => Content::Text(format!("[resource {uri}]")),
        },
        ResultContent::ResourceLink {
            uri,
            name,
            description,
        } => Content::Text(match description {
            Some(description) => format!("[resource link {name}: {uri}] {description}"),
            None => format!("[resource link {name}: {uri}]"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(text: Option<&str>, blob: Option<&[u8]>) -> ResultContent {
        ResultContent::Resource {
            uri: "file:///r".to_owned(),
            mime_type: blob.map(|_| "application/pdf".to_owned()),
            text: text.map(str::to_owned),
            blob: blob.map(<[u8]>::to_vec),
        }
    }

    #[test]
    fn blocks_become_content() {
        let text = |text: &str| Content::Text(text.to_owned());
        // (MCP block, wharf content)
        let cases = [
            (ResultContent::Text("hi".to_owned()), text("hi")),
            (
                ResultContent::Image {
                    mime_type: "image/png".to_owned(),
                    data: vec![1, 2],
                },
                Content::Image {
                    mime_type: "image/png".to_owned(),
                    data: vec![1, 2],
                },
            ),
            (
                ResultContent::Audio {
                    mime_type: "audio/wav".to_owned(),
                    data: vec![0; 3],
                },
                text("[audio: audio/wav, 3 bytes]"),
            ),
            (resource(Some("body"), None), text("body")),
            (
                resource(None, Some(&[0; 4])),
                text("[resource file:///r: application/pdf, 4 bytes]"),
            ),
            (resource(None, None), text("[resource file:///r]")),
            (
                ResultContent::ResourceLink {
                    uri: "file:///l".to_owned(),
                    name: "l".to_owned(),
                    description: Some("a link".to_owned()),
                },
                text("[resource link l: file:///l] a link"),
            ),
            (
                ResultContent::ResourceLink {
                    uri: "file:///l".to_owned(),
                    name: "l".to_owned(),
                    description: None,
                },
                text("[resource link l: file:///l]"),
            ),
        ];
        for (block, expected) in cases {
            let shown = format!("{block:?}");
            assert_eq!(content(block), expected, "{shown}");
        }
    }
}
