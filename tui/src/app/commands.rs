//! What the slash commands do, and the pickers they open.

use std::fmt::Write as _;

use crossterm::event::KeyEvent;
use wharf_host::ops::{ApprovalPolicy, Op, SessionInfo};

use super::{App, Overlay};
use crate::picker::{Picked, Picker, PickerItem};
use crate::slash::Command;
use crate::status_line::policy_name;

/// The approval policies, in the order `/approvals` lists them.
const POLICIES: [(ApprovalPolicy, &str); 4] = [
    (
        ApprovalPolicy::Untrusted,
        "ask before anything but known-safe read-only commands",
    ),
    (
        ApprovalPolicy::OnRequest,
        "run in the sandbox; the model asks when it needs more",
    ),
    (
        ApprovalPolicy::OnFailure,
        "run in the sandbox; ask to run again without it when that fails",
    ),
    (
        ApprovalPolicy::Never,
        "never ask; failures go back to the model",
    ),
];

impl App {
    pub(super) fn run_command(&mut self, command: Command) {
        match command {
            Command::Model => self.open_models(),
            Command::Approvals => {
                let current = self.info.as_ref().map(|info| info.approval_policy);
                let items = POLICIES
                    .iter()
                    .map(|(policy, about)| {
                        PickerItem::new(policy_name(*policy), *about, current == Some(*policy))
                    })
                    .collect();
                self.overlay = Some(Overlay::Approvals(Picker::new("Approval policy", items)));
            }
            Command::Status => {
                let text = self.status_text();
                self.transcript.push_local("status", &text, false);
                self.send(Op::Status);
            }
            Command::Features => {
                let mut picker = Picker::new("Features", Vec::new());
                picker.footer = features_footer();
                self.overlay = Some(Overlay::Features(picker));
                self.refresh_features();
            }
            Command::Plugins => self.list_plugins(false),
            Command::Mcp => self.list_plugins(true),
            Command::Diff => self.send(Op::Diff),
            Command::Compact => self.send(Op::Compact),
            Command::New => self.send(Op::NewThread),
            Command::Resume => {
                self.awaiting_sessions = true;
                self.send(Op::ListSessions);
            }
            Command::Quit | Command::Exit => self.quit(),
        }
    }

    fn open_models(&mut self) {
        let Some(info) = &self.info else {
            self.not_ready("model");
            return;
        };
        let items = info
            .models
            .iter()
            .map(|model| {
                let detail = if model.description.is_empty() {
                    model.display_name.clone()
                } else {
                    format!("{} — {}", model.display_name, model.description)
                };
                PickerItem::new(model.slug.clone(), detail, model.slug == info.model)
            })
            .collect();
        self.overlay = Some(Overlay::Model(Picker::new("Model", items)));
    }

    fn not_ready(&mut self, command: &str) {
        self.transcript.push_local(
            "error",
            &format!("/{command}: the session is still starting; try again in a moment"),
            true,
        );
    }

    /// `/plugins` (every plugin) or `/mcp` (the MCP servers) as a local cell.
    fn list_plugins(&mut self, mcp_only: bool) {
        let title = if mcp_only { "mcp" } else { "plugins" };
        let Some(info) = &self.info else {
            self.not_ready(title);
            return;
        };
        let mut text = String::new();
        for plugin in &info.plugins {
            if mcp_only && plugin.kind != "mcp" {
                continue;
            }
            let state = plugin.unavailable.as_deref().unwrap_or("loaded");
            let _ = write!(text, "{} ({}) — {state}", plugin.name, plugin.kind);
            if let Some(feature) = &plugin.feature {
                let _ = write!(text, " [feature {feature}]");
            }
            let tools = if plugin.tools.is_empty() {
                "no tools".to_owned()
            } else {
                plugin.tools.join(", ")
            };
            let _ = writeln!(text, "\n  tools: {tools}");
        }
        if text.is_empty() {
            text = if mcp_only {
                "no MCP servers configured".to_owned()
            } else {
                "no plugins".to_owned()
            };
        }
        self.transcript.push_local(title, text.trim_end(), false);
    }

    fn status_text(&self) -> String {
        let Some(info) = &self.info else {
            return "the session is still starting".to_owned();
        };
        let mut text = String::new();
        let _ = writeln!(text, "model: {} ({})", info.model, info.provider);
        let _ = writeln!(text, "sandbox: {}", info.sandbox);
        let _ = writeln!(text, "approval: {}", policy_name(info.approval_policy));
        let window = self.context.window.or(info.context_window);
        let context = match window.filter(|w| *w > 0) {
            Some(window) => format!(
                "{}% used ({} of {window} tokens)",
                self.context.used.min(window) * 100 / window,
                self.context.used
            ),
            None => "window unknown".to_owned(),
        };
        let _ = writeln!(text, "context: {context}");
        let tokens = self
            .total_tokens
            .map_or_else(|| "none yet".to_owned(), |total| total.to_string());
        let _ = writeln!(text, "tokens: {tokens}");
        let _ = writeln!(text, "session: {}", info.session_id);
        let _ = writeln!(text, "cwd: {}", info.cwd.display());
        if let Some(rollout) = &info.rollout {
            let _ = writeln!(text, "rollout: {}", rollout.display());
        }
        if info.instructions.is_empty() {
            let _ = writeln!(text, "instructions: no AGENTS.md");
        } else {
            for path in &info.instructions {
                let _ = writeln!(text, "instructions: {}", path.display());
            }
        }
        if let Some(origin) = &info.requirements {
            let _ = writeln!(text, "requirements: {origin}");
        }
        text.push_str(&plugins_summary(info));
        text.trim_end().to_owned()
    }

    /// Rebuilds the `/features` list from the latest session info.
    pub(super) fn refresh_features(&mut self) {
        let Some(Overlay::Features(picker)) = &mut self.overlay else {
            return;
        };
        let features = self
            .info
            .as_ref()
            .map_or(&[][..], |info| &info.features[..]);
        picker.items = features
            .iter()
            .map(|feature| {
                let state = if feature.enabled { "[x]" } else { "[ ]" };
                let detail = match &feature.locked {
                    Some(reason) => format!("locked: {reason}"),
                    None => String::new(),
                };
                PickerItem::new(format!("{state} {}", feature.name), detail, false)
            })
            .collect();
        picker.selected = picker.selected.min(picker.items.len().saturating_sub(1));
    }

    pub(super) fn overlay_key(&mut self, key: KeyEvent) {
        let page = self.page;
        let Some(overlay) = &mut self.overlay else {
            return;
        };
        let picked = overlay.picker_mut().handle_key(key, page);
        let index = match picked {
            Picked::None => return,
            Picked::Closed => {
                self.overlay = None;
                return;
            }
            Picked::Chosen(index) | Picked::Toggled(index) => index,
        };
        let toggled = matches!(picked, Picked::Toggled(_));
        let resume_id = match overlay {
            Overlay::Resume(_, ids) => ids.get(index).cloned(),
            Overlay::Model(_) | Overlay::Approvals(_) | Overlay::Features(_) => None,
        };
        match overlay {
            Overlay::Features(_) => self.toggle_feature(index),
            // Space only toggles features.
            Overlay::Model(_) | Overlay::Approvals(_) | Overlay::Resume(..) if toggled => {}
            Overlay::Model(_) => {
                self.overlay = None;
                let model = self
                    .info
                    .as_ref()
                    .and_then(|info| info.models.get(index))
                    .map(|model| model.slug.clone());
                if let Some(model) = model {
                    self.send(Op::SetModel { model });
                }
            }
            Overlay::Approvals(_) => {
                self.overlay = None;
                if let Some((policy, _)) = POLICIES.get(index) {
                    self.send(Op::SetApprovalPolicy { policy: *policy });
                }
            }
            Overlay::Resume(..) => {
                self.overlay = None;
                if let Some(id) = resume_id {
                    self.send(Op::Resume { id });
                }
            }
        }
    }

    fn toggle_feature(&mut self, index: usize) {
        let Some(feature) = self.info.as_ref().and_then(|info| info.features.get(index)) else {
            return;
        };
        let (name, enabled, locked) = (
            feature.name.clone(),
            feature.enabled,
            feature.locked.clone(),
        );
        if let Some(Overlay::Features(picker)) = &mut self.overlay {
            picker.footer = match &locked {
                Some(reason) => format!("{name} cannot change here: {reason}"),
                None => features_footer(),
            };
        }
        if locked.is_none() {
            self.send(Op::SetFeature {
                name,
                enabled: !enabled,
            });
        }
    }
}

fn features_footer() -> String {
    "↑↓ select · Space/Enter toggle · Esc close".to_owned()
}

/// The plugins and MCP servers with their state, for `/status`.
fn plugins_summary(info: &SessionInfo) -> String {
    if info.plugins.is_empty() {
        return "plugins: none\n".to_owned();
    }
    let mut text = "plugins:\n".to_owned();
    for plugin in &info.plugins {
        let state = plugin.unavailable.as_deref().unwrap_or("loaded");
        let _ = writeln!(text, "  {} ({}): {state}", plugin.name, plugin.kind);
    }
    text
}
