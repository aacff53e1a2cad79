//! Markdown (an agent message, a reasoning summary) as wrapped, styled
//! lines: headings, emphasis, nested and numbered lists, block quotes,
//! inline code, fenced code blocks (highlighted), links as their text and
//! URL, rules. Raw HTML is shown as text.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::highlight::highlight;
use crate::text::{sanitize, span, width as text_width, wrap};
use crate::theme::Theme;

/// `text` rendered as markdown, wrapped to `width` columns.
pub fn render(text: &str, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let options = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut writer = Writer {
        theme,
        width,
        lines: Vec::new(),
        spans: Vec::new(),
        styles: vec![Style::new()],
        containers: Vec::new(),
        lists: Vec::new(),
        link: None,
        code: None,
        blank_pending: false,
    };
    for event in Parser::new_ext(text, options) {
        writer.event(event);
    }
    writer.flush();
    writer.lines
}

/// A block that prefixes the lines inside it.
enum Container {
    Quote,
    /// A list item: its marker on its first line, spaces after.
    Item {
        marker: String,
        used: bool,
    },
}

struct Writer<'t> {
    theme: &'t Theme,
    width: usize,
    lines: Vec<Line<'static>>,
    /// The logical line being built.
    spans: Vec<Span<'static>>,
    /// Inline styles, each patched onto the one below.
    styles: Vec<Style>,
    containers: Vec<Container>,
    /// The open lists: the next number of an ordered one.
    lists: Vec<Option<u64>>,
    /// The open link: its URL and the text shown so far.
    link: Option<(String, String)>,
    /// The open code block: its language and text.
    code: Option<(String, String)>,
    /// A block ended: the next one starts after a blank line.
    blank_pending: bool,
}

impl Writer<'_> {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => {
                if let Some((_, code)) = &mut self.code {
                    code.push_str(&text);
                } else {
                    self.text(&text, self.style());
                }
            }
            Event::Code(code) => {
                let style = self.style().patch(self.theme.inline_code);
                self.text(&format!("`{code}`"), style);
            }
            Event::Html(html) | Event::InlineHtml(html) => self.text(&html, self.style()),
            Event::SoftBreak => self.text(" ", self.style()),
            Event::HardBreak => self.flush(),
            Event::Rule => {
                self.start_block();
                let rule = "─".repeat(self.width.clamp(1, 40));
                self.spans.push(span(rule, self.theme.rule));
                self.flush();
                self.blank_pending = true;
            }
            Event::TaskListMarker(checked) => {
                let marker = if checked { "[x] " } else { "[ ] " };
                self.spans.push(span(marker, self.theme.list_marker));
            }
            Event::FootnoteReference(name) => self.text(&format!("[^{name}]"), self.style()),
            Event::InlineMath(math) | Event::DisplayMath(math) => {
                self.text(&math, self.style());
            }
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph => self.start_block(),
            Tag::Heading { level, .. } => {
                self.start_block();
                self.push_style(self.theme.heading);
                let hashes = match level {
                    HeadingLevel::H1 => "# ",
                    HeadingLevel::H2 => "## ",
                    HeadingLevel::H3 => "### ",
                    HeadingLevel::H4 => "#### ",
                    HeadingLevel::H5 => "##### ",
                    HeadingLevel::H6 => "###### ",
                };
                self.spans.push(span(hashes, self.style()));
            }
            Tag::BlockQuote(_) => {
                self.start_block();
                self.containers.push(Container::Quote);
                self.push_style(self.theme.quote);
            }
            Tag::CodeBlock(kind) => {
                self.start_block();
                let language = match kind {
                    CodeBlockKind::Fenced(info) => info.to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                self.code = Some((language, String::new()));
            }
            Tag::List(first) => {
                if self.lists.is_empty() {
                    self.start_block();
                } else {
                    self.flush();
                }
                self.lists.push(first);
            }
            Tag::Item => {
                self.flush();
                let depth = self.lists.len();
                let marker = match self.lists.last_mut() {
                    Some(Some(number)) => {
                        let marker = format!("{number}. ");
                        *number += 1;
                        marker
                    }
                    _ if depth.is_multiple_of(2) => "◦ ".to_owned(),
                    _ => "• ".to_owned(),
                };
                self.containers.push(Container::Item {
                    marker,
                    used: false,
                });
            }
            Tag::Emphasis => self.push_style(self.theme.emphasis),
            Tag::Strong => self.push_style(self.theme.strong),
            Tag::Strikethrough => self.push_style(self.theme.strikethrough),
            Tag::Link { dest_url, .. } => {
                self.push_style(self.theme.link);
                self.link = Some((dest_url.to_string(), String::new()));
            }
            Tag::Image { dest_url, .. } => {
                self.push_style(self.theme.placeholder);
                self.text("[image: ", self.style());
                self.link = Some((dest_url.to_string(), String::new()));
            }
            Tag::HtmlBlock
            | Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::Table(_)
            | Tag::TableHead
            | Tag::TableRow
            | Tag::TableCell
            | Tag::Superscript
            | Tag::Subscript
            | Tag::MetadataBlock(_) => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => {
                self.flush();
                self.blank_pending = true;
            }
            TagEnd::Heading(_) => {
                self.flush();
                self.styles.pop();
                self.blank_pending = true;
            }
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.containers.pop();
                self.styles.pop();
                self.blank_pending = true;
            }
            TagEnd::CodeBlock => self.code_block(),
            TagEnd::List(_) => {
                self.flush();
                self.lists.pop();
                if self.lists.is_empty() {
                    self.blank_pending = true;
                }
            }
            TagEnd::Item => {
                self.flush();
                self.containers.pop();
            }
            TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => {
                self.styles.pop();
            }
            TagEnd::Link => {
                self.styles.pop();
                if let Some((url, shown)) = self.link.take()
                    && !url.is_empty()
                    && url != shown
                    && url.strip_prefix("mailto:") != Some(shown.as_str())
                {
                    self.text(&format!(" ({url})"), self.theme.url);
                }
            }
            TagEnd::Image => {
                let url = self.link.take().map(|(url, _)| url).unwrap_or_default();
                self.text(&format!("] ({url})"), self.style());
                self.styles.pop();
            }
            TagEnd::HtmlBlock
            | TagEnd::FootnoteDefinition
            | TagEnd::DefinitionList
            | TagEnd::DefinitionListTitle
            | TagEnd::DefinitionListDefinition
            | TagEnd::Table
            | TagEnd::TableHead
            | TagEnd::TableRow
            | TagEnd::TableCell
            | TagEnd::Superscript
            | TagEnd::Subscript
            | TagEnd::MetadataBlock(_) => {}
        }
    }

    fn style(&self) -> Style {
        self.styles.last().copied().unwrap_or_default()
    }

    fn push_style(&mut self, style: Style) {
        self.styles.push(self.style().patch(style));
    }

    /// Inline text; a newline in it (raw HTML) ends the line.
    fn text(&mut self, text: &str, style: Style) {
        let clean = sanitize(text);
        if let Some((_, shown)) = &mut self.link {
            shown.push_str(&clean);
        }
        for (index, part) in clean.split('\n').enumerate() {
            if index > 0 {
                self.flush();
            }
            if !part.is_empty() {
                self.spans.push(span(part, style));
            }
        }
    }

    /// Before a block: the pending line ends, and a blank line separates
    /// it from the block before.
    fn start_block(&mut self) {
        self.flush();
        if self.blank_pending && !self.lines.is_empty() {
            let (_, rest) = self.prefixes();
            let blank: Vec<Span<'static>> = rest
                .into_iter()
                .map(|prefix| span(prefix.content.trim_end().to_owned(), prefix.style))
                .collect();
            self.lines.push(Line::from(blank));
        }
        self.blank_pending = false;
    }

    /// The prefixes of the next line and of its continuation rows; a list
    /// item's marker is used once.
    fn prefixes(&mut self) -> (Vec<Span<'static>>, Vec<Span<'static>>) {
        let mut first = Vec::new();
        let mut rest = Vec::new();
        for container in &mut self.containers {
            match container {
                Container::Quote => {
                    first.push(span("│ ", self.theme.quote));
                    rest.push(span("│ ", self.theme.quote));
                }
                Container::Item { marker, used } => {
                    let blank = " ".repeat(text_width(marker));
                    if *used {
                        first.push(span(blank.clone(), Style::new()));
                    } else {
                        first.push(span(marker.clone(), self.theme.list_marker));
                    }
                    rest.push(span(blank, Style::new()));
                }
            }
        }
        (first, rest)
    }

    fn mark_items_used(&mut self) {
        for container in &mut self.containers {
            if let Container::Item { used, .. } = container {
                *used = true;
            }
        }
    }

    /// Ends the logical line: wraps it under the containers' prefixes.
    fn flush(&mut self) {
        if self.spans.is_empty() {
            return;
        }
        let (first, rest) = self.prefixes();
        let spans = std::mem::take(&mut self.spans);
        self.lines.extend(wrap(&spans, self.width, &first, &rest));
        self.mark_items_used();
    }

    fn code_block(&mut self) {
        let Some((language, code)) = self.code.take() else {
            return;
        };
        let (mut first, mut rest) = self.prefixes();
        first.push(span("  ", Style::new()));
        rest.push(span("  ", Style::new()));
        for (index, code_line) in highlight(&code, &language, self.theme)
            .into_iter()
            .enumerate()
        {
            let head = if index == 0 { &first } else { &rest };
            self.lines.extend(wrap(&code_line, self.width, head, &rest));
        }
        self.mark_items_used();
        self.blank_pending = true;
    }
}
