//! How a plan cell looks: a title, the explanation, then one line per step
//! with a mark for its status (`✔` done, `▸` in progress, `□` pending).
//! Steps and the explanation come from a tool: they are escaped, and a
//! newline in a step is shown as `\n`, so one step stays one entry.

use ratatui::style::Style;
use ratatui::text::Line;
use wharf_host::agent::PlanStatus;

use super::cell::{Context, PlanCell};
use crate::text::{sanitize_line, span, wrap, wrap_text};

impl PlanCell {
    pub(super) fn layout(&self, cx: &Context<'_>) -> Vec<Line<'static>> {
        let theme = cx.theme;
        let indent = [span("  ", Style::new())];
        let mut lines = wrap(
            &[span("Plan updated", theme.info_title)],
            cx.width,
            &[span("• ", theme.info_title)],
            &indent,
        );
        if let Some(explanation) = self.explanation.as_deref()
            && !explanation.trim().is_empty()
        {
            lines.extend(wrap_text(
                explanation,
                theme.reasoning,
                cx.width,
                &indent,
                &indent,
            ));
        }
        if self.steps.is_empty() {
            lines.extend(wrap(
                &[span("(no steps)", theme.dim)],
                cx.width,
                &indent,
                &indent,
            ));
        }
        let rest = [span("    ", Style::new())];
        for step in &self.steps {
            let (mark, mark_style, text_style) = match step.status {
                PlanStatus::Completed => ("✔ ", theme.done, theme.strikethrough.patch(theme.dim)),
                PlanStatus::InProgress => ("▸ ", theme.running, theme.running),
                PlanStatus::Pending => ("□ ", theme.dim, Style::new()),
            };
            let first = [span("  ", Style::new()), span(mark, mark_style)];
            lines.extend(wrap(
                &[span(sanitize_line(&step.step), text_style)],
                cx.width,
                &first,
                &rest,
            ));
        }
        lines
    }
}
