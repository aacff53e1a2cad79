//! Every style the TUI uses, in one place.
//!
//! With colour, states differ by colour and glyph; without (`NO_COLOR`),
//! only bold, dim, italic, reversed and underline are used, so running,
//! done, failed and the diff's added and removed lines stay distinguishable
//! by glyph and modifier alone.

use ratatui::style::{Color, Modifier, Style};

/// The styles of the TUI. Build it once with [`Theme::from_env`] (or
/// [`Theme::new`] in tests) and pass it to every renderer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    /// Whether this theme uses colours (false under `NO_COLOR`).
    pub color: bool,
    // Transcript cells.
    pub user_marker: Style,
    pub user_text: Style,
    pub reasoning: Style,
    pub running: Style,
    pub done: Style,
    pub failed: Style,
    pub declined: Style,
    pub cancelled: Style,
    pub command: Style,
    pub tool_name: Style,
    pub output: Style,
    pub gutter: Style,
    pub fold_marker: Style,
    pub progress: Style,
    pub placeholder: Style,
    pub error: Style,
    pub warning: Style,
    pub info: Style,
    pub info_title: Style,
    pub path: Style,
    // Markdown.
    pub heading: Style,
    pub emphasis: Style,
    pub strong: Style,
    pub strikethrough: Style,
    pub inline_code: Style,
    pub code_block: Style,
    pub link: Style,
    pub url: Style,
    pub quote: Style,
    pub list_marker: Style,
    pub rule: Style,
    // Syntax highlighting.
    pub keyword: Style,
    pub string: Style,
    pub comment: Style,
    pub number: Style,
    // Diffs.
    pub diff_added: Style,
    pub diff_removed: Style,
    pub diff_context: Style,
    pub diff_hunk: Style,
    pub diff_header: Style,
    pub diff_line_number: Style,
    pub change_add: Style,
    pub change_update: Style,
    pub change_delete: Style,
    // The app shell: composer, modal, pickers, status line.
    pub border: Style,
    pub border_focused: Style,
    pub title: Style,
    pub composer_text: Style,
    pub composer_placeholder: Style,
    pub selected: Style,
    pub key_hint: Style,
    pub status_line: Style,
    pub dim: Style,
}

impl Theme {
    /// The theme with colours (`color`) or with modifiers only.
    pub fn new(color: bool) -> Theme {
        let plain = Style::new();
        let bold = plain.add_modifier(Modifier::BOLD);
        let dim = plain.add_modifier(Modifier::DIM);
        let italic = plain.add_modifier(Modifier::ITALIC);
        let underline = plain.add_modifier(Modifier::UNDERLINED);
        // `c(colour, fallback)`: the colour on top of the fallback's
        // modifiers with colour, the fallback alone without.
        let c = |fg: Color, fallback: Style| {
            if color { fallback.fg(fg) } else { fallback }
        };
        // `pick(with colour, without)`.
        let pick = |colored: Style, mono: Style| if color { colored } else { mono };
        Theme {
            color,
            user_marker: c(Color::Cyan, bold),
            user_text: c(Color::Cyan, plain),
            reasoning: c(Color::DarkGray, dim.add_modifier(Modifier::ITALIC)),
            running: c(Color::Cyan, bold),
            done: c(Color::Green, bold),
            failed: pick(bold.fg(Color::Red), bold.add_modifier(Modifier::REVERSED)),
            declined: pick(
                bold.fg(Color::Yellow),
                bold.add_modifier(Modifier::UNDERLINED),
            ),
            cancelled: c(Color::Yellow, dim),
            command: bold,
            tool_name: c(Color::Magenta, bold),
            output: c(Color::Gray, plain),
            gutter: dim,
            fold_marker: c(Color::DarkGray, dim.add_modifier(Modifier::ITALIC)),
            progress: c(Color::Cyan, dim),
            placeholder: c(Color::Magenta, italic),
            error: c(Color::Red, bold),
            warning: c(Color::Yellow, bold),
            info: plain,
            info_title: c(Color::Blue, bold),
            path: c(Color::Blue, plain),
            heading: c(Color::Magenta, bold.add_modifier(Modifier::UNDERLINED)),
            emphasis: italic,
            strong: bold,
            strikethrough: plain.add_modifier(Modifier::CROSSED_OUT),
            inline_code: c(Color::Yellow, plain),
            code_block: plain,
            link: c(Color::Blue, underline),
            url: c(Color::Blue, dim),
            quote: c(Color::Green, italic),
            list_marker: c(Color::Cyan, plain),
            rule: dim,
            keyword: c(Color::Magenta, bold),
            string: c(Color::Green, plain),
            comment: c(Color::DarkGray, italic),
            number: c(Color::Yellow, plain),
            diff_added: pick(plain.fg(Color::Green), bold),
            diff_removed: pick(plain.fg(Color::Red), dim),
            diff_context: plain,
            diff_hunk: c(Color::Cyan, dim),
            diff_header: bold,
            diff_line_number: dim,
            change_add: c(Color::Green, bold),
            change_update: c(Color::Yellow, bold),
            change_delete: c(Color::Red, bold),
            border: c(Color::DarkGray, dim),
            border_focused: c(Color::Cyan, bold),
            title: bold,
            composer_text: plain,
            composer_placeholder: c(Color::DarkGray, dim),
            selected: c(Color::Cyan, plain.add_modifier(Modifier::REVERSED)),
            key_hint: c(Color::DarkGray, dim),
            status_line: c(Color::DarkGray, dim),
            dim,
        }
    }

    /// The theme for this terminal: colour unless `NO_COLOR` is set to a
    /// non-empty value (<https://no-color.org>). Read the environment once,
    /// at start.
    pub fn from_env() -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
        Theme::new(!no_color)
    }
}
