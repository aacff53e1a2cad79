//! The screen: the transcript, the activity row while a turn runs, the
//! composer (with the slash popup over the transcript), the status line,
//! and over them a picker or the approval modal.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::{App, QUIT_WINDOW};
use crate::links;
use crate::picker::centered;
use crate::slash::Popup;
use crate::status_line;

impl App {
    /// Draws the whole screen into `buf` at `area`.
    pub fn render(&mut self, area: Rect, buf: &mut Buffer) {
        self.cursor = None;
        self.links.clear();
        if area.is_empty() {
            return;
        }
        let status_rows = 1;
        let activity_rows = u16::from(self.running() && area.height >= 4);
        // The composer gets its rows but leaves the transcript at least
        // half of what remains on a small screen.
        let fixed = status_rows + activity_rows + 1;
        let room = area.height.saturating_sub(fixed);
        let text_rows = self.composer.height(area.width).min((room / 2).max(1));
        let composer_rows = (text_rows + 1).min(area.height.saturating_sub(status_rows));
        let transcript_rows = area
            .height
            .saturating_sub(status_rows + activity_rows + composer_rows);

        let mut y = area.y;
        let transcript_area = Rect::new(area.x, y, area.width, transcript_rows);
        y += transcript_rows;
        let activity_area = Rect::new(area.x, y, area.width, activity_rows);
        y += activity_rows;
        let composer_area = Rect::new(area.x, y, area.width, composer_rows);
        y += composer_rows;
        let status_area = Rect::new(area.x, y, area.width, area.bottom().saturating_sub(y));

        self.page = usize::from(transcript_rows.max(1));
        if !transcript_area.is_empty() {
            self.transcript.render(
                transcript_area,
                buf,
                &mut self.scroll,
                &self.theme,
                self.now,
            );
        }
        self.render_activity(activity_area, buf);
        let cursor = self.render_composer(composer_area, buf);
        let hint = self.quit_hint();
        let status = status_line::Status {
            info: self.info.as_ref(),
            context: self.context,
            total_tokens: self.total_tokens,
            items: &self.status_items,
        };
        status_line::render(status_area, buf, &self.theme, &status, hint);

        let popup_rows = Popup::height(self.composer.text()).min(transcript_rows);
        if popup_rows > 0
            && self.overlay.is_none()
            && !self.approvals.is_open()
            && !self.forms.is_open()
        {
            let popup_area =
                Rect::new(area.x, composer_area.y - popup_rows, area.width, popup_rows);
            self.popup
                .render(self.composer.text(), popup_area, buf, &self.theme);
        }

        let above_status = Rect::new(
            area.x,
            area.y,
            area.width,
            area.height.saturating_sub(status_rows),
        );
        if self.approvals.is_open() {
            self.approvals.render(above_status, buf, &self.theme);
        } else if self.forms.is_open() {
            self.forms.render(above_status, buf, &self.theme);
        } else if let Some(overlay) = &self.overlay {
            let picker = overlay.picker();
            let width = area.width.saturating_sub(4).clamp(20.min(area.width), 90);
            let boxed = centered(above_status, width, picker.height());
            picker.render(boxed, buf, &self.theme);
        } else {
            self.cursor = cursor;
        }
        if let Some(scheme) = self.file_opener {
            let style = self.theme.path;
            self.links = links::find(buf, transcript_area, style, &self.cwd, scheme);
        }
    }

    fn render_activity(&self, area: Rect, buf: &mut Buffer) {
        let Some(started) = self.turn_started else {
            return;
        };
        if area.is_empty() {
            return;
        }
        let seconds = self.now.saturating_duration_since(started).as_secs();
        let pending = self.approvals.pending();
        let text = if pending > 0 {
            format!("• Waiting for approval ({seconds}s · Esc to interrupt)")
        } else if self.forms.is_open() {
            format!("• Waiting for your answer ({seconds}s · Ctrl-C to interrupt)")
        } else {
            format!("• Working ({seconds}s · Esc to interrupt)")
        };
        buf.set_stringn(
            area.x,
            area.y,
            &text,
            usize::from(area.width),
            self.theme.running,
        );
    }

    fn render_composer(&self, area: Rect, buf: &mut Buffer) -> Option<ratatui::layout::Position> {
        if area.is_empty() {
            return None;
        }
        let rule = "─".repeat(usize::from(area.width));
        buf.set_stringn(
            area.x,
            area.y,
            &rule,
            usize::from(area.width),
            self.theme.border,
        );
        let text_area = Rect::new(area.x, area.y + 1, area.width, area.height - 1);
        self.composer.render(text_area, buf, &self.theme)
    }

    pub(super) fn quit_hint(&self) -> Option<&'static str> {
        let armed = self.quit_armed?;
        (self.now.saturating_duration_since(armed) < QUIT_WINDOW).then_some("Ctrl-C again to quit")
    }
}
