//! A heavy plugin: 16 MiB of initialized data (every byte [`INITIAL`]), the
//! size of an interpreter's snapshot. `heavy_pages{check, mark}` counts
//! the pages of it that no longer hold their initial bytes (`check`: what
//! an earlier call left behind), then writes a byte into every page
//! (`mark`). With neither, it returns at once: a trivial call of a heavy
//! component.

use std::sync::atomic::{AtomicU8, Ordering};

use serde::Deserialize;
use wharf_plugin_api::{Args, Context, Output, Tool, ToolError, ToolSpec};

/// Every byte of [`DATA`] as the component starts.
const INITIAL: u8 = 0x5a;
const DATA_BYTES: usize = 16 << 20;
const PAGE_BYTES: usize = 4096;

/// Initialized, so the module carries all of it as a data segment.
static DATA: [AtomicU8; DATA_BYTES] = [const { AtomicU8::new(INITIAL) }; DATA_BYTES];

pub struct HeavyPages;

#[derive(Deserialize)]
struct Input {
    #[serde(default)]
    check: bool,
    #[serde(default)]
    mark: bool,
}

impl Tool for HeavyPages {
    const NAME: &'static str = "heavy_pages";

    fn spec() -> ToolSpec {
        ToolSpec::new(
            "Counts the pages of its 16 MiB of data an earlier call changed (check), then \
             changes every one (mark).",
        )
        .input_schema(serde_json::json!({
            "type": "object",
            "properties": {
                "check": { "type": "boolean" },
                "mark": { "type": "boolean" }
            },
            "additionalProperties": false
        }))
    }

    fn call(_cx: &Context, args: Args) -> Result<Output, ToolError> {
        let input: Input = args.parse()?;
        let pages = DATA.iter().step_by(PAGE_BYTES);
        let changed = if input.check {
            pages
                .clone()
                .filter(|byte| byte.load(Ordering::Relaxed) != INITIAL)
                .count()
        } else {
            0
        };
        if input.mark {
            for byte in pages {
                byte.store(!INITIAL, Ordering::Relaxed);
            }
        }
        Ok(Output::text(format!(
            "{changed} of {} pages changed",
            DATA_BYTES / PAGE_BYTES
        )))
    }
}

wharf_plugin_api::plugin!(HeavyPages);
