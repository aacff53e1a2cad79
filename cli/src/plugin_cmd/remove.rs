//! `wharf plugin remove NAME`: a plugin's name, never a path. What goes is
//! the direct child of the plugins directory of that name — a directory
//! holding a plugin.toml, or a symbolic link, which is removed without
//! touching what it points to — and its plugins.lock entry, first.

use std::io;

use anyhow::{Context as _, bail};
use wharf_runtime::plugin::manifest::{MANIFEST_FILE, PluginName};
use wharf_runtime::registry::lock::{self, PluginLock};

use crate::session::plugins_dir;
use crate::{GlobalArgs, UsageError};

pub(super) fn remove(global: &GlobalArgs, name: &str) -> anyhow::Result<()> {
    let name: PluginName = name.parse().map_err(|err| {
        UsageError(format!(
            "{err}; `wharf plugin remove` takes a plugin's name as `wharf plugin list` shows it, \
             not a path"
        ))
    })?;
    let configured = global.configure()?;
    let plugins = plugins_dir(&configured.options);
    let dir = plugins.join(name.as_str());
    let lock_path = lock::path_beside(&plugins);
    let mut lock = PluginLock::read(&lock_path)?;
    let locked = lock.get(name.as_str()).is_some();
    let metadata = match std::fs::symlink_metadata(&dir) {
        Ok(metadata) => Some(metadata),
        Err(err) if err.kind() == io::ErrorKind::NotFound => None,
        Err(err) => return Err(err).with_context(|| format!("cannot inspect {}", dir.display())),
    };
    let is_link = metadata
        .as_ref()
        .is_some_and(|m| m.file_type().is_symlink());
    let is_plugin_dir = metadata.as_ref().is_some_and(|m| m.is_dir())
        && std::fs::symlink_metadata(dir.join(MANIFEST_FILE)).is_ok();
    // A link counts when it leads to a plugin's directory or the lock
    // knows the name; either way only the link goes.
    let is_plugin_link = is_link && (locked || dir.join(MANIFEST_FILE).is_file());
    if !is_plugin_dir && !is_plugin_link {
        if metadata.is_some() {
            bail!(
                "{} is not a plugin's directory (it holds no {MANIFEST_FILE}); not removed",
                dir.display()
            );
        }
        if locked {
            lock.remove(name.as_str());
            lock.write(&lock_path)?;
            println!(
                "removed {name} from {} (its directory was already gone)",
                lock_path.display()
            );
            return Ok(());
        }
        if crate::build_info::embedded()
            .iter()
            .any(|embedded| embedded.manifest.contains(&format!("name = \"{name}\"")))
        {
            bail!(
                "plugin `{name}` is built in; turn it off with `wharf features disable KEY` instead"
            );
        }
        bail!(
            "no plugin named `{name}` is installed in {}",
            plugins.display()
        );
    }
    // The lock entry first: should removing the files fail half-way, what
    // is left is a plugin without consent, which is off and never opened.
    if lock.remove(name.as_str()).is_some() {
        lock.write(&lock_path)?;
    }
    if is_plugin_link {
        let target = std::fs::read_link(&dir).unwrap_or_default();
        std::fs::remove_file(&dir).with_context(|| format!("cannot remove {}", dir.display()))?;
        println!(
            "removed {name}: the link {} (what it points to, {}, is left as it was)",
            dir.display(),
            target.display()
        );
        return Ok(());
    }
    // remove_dir_all does not follow symbolic links, at the top or below.
    std::fs::remove_dir_all(&dir).with_context(|| format!("cannot remove {}", dir.display()))?;
    println!("removed {name} from {}", dir.display());
    Ok(())
}
