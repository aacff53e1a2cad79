//! The JSON Schema of `config.toml`, generated from [`ConfigToml`] and
//! checked in at `host/config.schema.json` for editors and reviewers.

use super::toml_types::ConfigToml;

/// The schema as pretty JSON with a trailing newline, exactly as checked in.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(ConfigToml);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Fails when a config type changed without regenerating the schema.
    /// `cargo xtask schema` rewrites the file (it runs this test with
    /// `WHARF_UPDATE_SCHEMA=1`).
    #[test]
    fn checked_in_schema_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.schema.json");
        let generated = super::json_schema();
        if std::env::var_os("WHARF_UPDATE_SCHEMA").is_some() {
            std::fs::write(&path, &generated).unwrap();
            return;
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == generated,
            "{} is stale: the config types changed. Run `cargo xtask schema` and commit the result.",
            path.display()
        );
    }
}
