//! No module import cycle inside a crate: among the modules of one parent,
//! the "uses" relation is acyclic. A module using its ancestors (`super::`)
//! or its own descendants is not an edge; test files are left out.
//!
//! The relation is read from the source text: every path that starts with
//! `crate::` or `super::` (in `use` trees too) names the deepest module it
//! reaches, and the file that wrote it depends on that module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The directories of every workspace crate with a `src/` directory.
fn crate_dirs() -> Vec<PathBuf> {
    let metadata = super::metadata();
    let mut dirs: Vec<PathBuf> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|package| {
            let manifest = Path::new(package["manifest_path"].as_str()?);
            let dir = manifest.parent()?;
            dir.join("src").is_dir().then(|| dir.to_owned())
        })
        .collect();
    dirs.sort();
    dirs
}

type ModulePath = Vec<String>;

/// The module a file defines: `lib.rs`/`main.rs` → the root, `a/b.rs` and
/// `a/b/mod.rs` → `a::b`.
fn module_of(relative: &Path) -> ModulePath {
    let mut parts: ModulePath = relative
        .with_extension("")
        .components()
        .map(|part| part.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// Every path written after `crate::` or `super::` in `text`, absolute
/// (from the crate root), given that `text` is module `module`'s file.
fn referenced_paths(text: &str, module: &ModulePath) -> Vec<ModulePath> {
    let mut paths = Vec::new();
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &text[at..];
        let preceded_by_ident = at > 0 && is_ident(bytes[at - 1]);
        let start = if preceded_by_ident {
            None
        } else if rest.starts_with("crate::") {
            Some((ModulePath::new(), "crate::".len()))
        } else if rest.starts_with("super::") {
            let mut base = module.clone();
            let mut len = 0;
            while text[at + len..].starts_with("super::") {
                base.pop();
                len += "super::".len();
            }
            Some((base, len))
        } else {
            None
        };
        match start {
            Some((base, len)) => {
                let (trees, used) = parse_tree(&text[at + len..]);
                for tree in trees {
                    let mut path = base.clone();
                    path.extend(tree);
                    paths.push(path);
                }
                at += len + used.max(1);
            }
            None => at += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    paths
}

fn is_ident(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// Parses a path or use tree (`a::b`, `a::{b, c::d}`) at the start of
/// `text`: its leaf paths, and how many bytes it took.
fn parse_tree(text: &str) -> (Vec<ModulePath>, usize) {
    let bytes = text.as_bytes();
    let mut prefix = ModulePath::new();
    let mut at = 0;
    loop {
        let ident_end = at + bytes[at..].iter().take_while(|b| is_ident(**b)).count();
        if ident_end > at {
            prefix.push(text[at..ident_end].to_owned());
            at = ident_end;
            if text[at..].starts_with("::") {
                at += 2;
                continue;
            }
            return (vec![prefix], at);
        }
        if bytes.get(at) == Some(&b'{') {
            let mut leaves = Vec::new();
            at += 1;
            loop {
                at += text[at..].len() - text[at..].trim_start().len();
                match bytes.get(at) {
                    Some(b'}') => return (leaves, at + 1),
                    Some(b',') => at += 1,
                    None => return (leaves, at),
                    Some(_) => {
                        let (inner, used) = parse_tree(&text[at..]);
                        for leaf in inner {
                            let mut path = prefix.clone();
                            path.extend(leaf);
                            leaves.push(path);
                        }
                        // `self`, `*` and `as` renames end a leaf too.
                        at += used.max(1);
                        at += text[at..].find([',', '}']).unwrap_or(text.len() - at);
                    }
                }
            }
        }
        return (vec![prefix], at);
    }
}

/// The edges "sibling `a` uses sibling `b`", grouped by their parent.
fn sibling_edges(
    uses: &BTreeMap<ModulePath, BTreeSet<ModulePath>>,
) -> BTreeMap<ModulePath, BTreeSet<(String, String)>> {
    let modules: BTreeSet<&ModulePath> = uses.keys().collect();
    let mut edges: BTreeMap<ModulePath, BTreeSet<(String, String)>> = BTreeMap::new();
    for (from, targets) in uses {
        for target in targets {
            // The deepest module the path reaches.
            let Some(target) = (0..=target.len())
                .rev()
                .map(|len| target[..len].to_vec())
                .find(|prefix| modules.contains(prefix))
            else {
                continue;
            };
            let common = from.iter().zip(&target).take_while(|(a, b)| a == b).count();
            // An ancestor or a descendant: not a sibling edge.
            if common == from.len() || common == target.len() {
                continue;
            }
            edges
                .entry(from[..common].to_vec())
                .or_default()
                .insert((from[common].clone(), target[common].clone()));
        }
    }
    edges
}

/// A cycle among `edges`, as the modules on it, if there is one.
fn find_cycle(edges: &BTreeSet<(String, String)>) -> Option<Vec<String>> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in edges {
        next.entry(from).or_default().push(to);
    }
    fn visit<'a>(
        node: &'a str,
        next: &BTreeMap<&'a str, Vec<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|seen| *seen == node) {
            let mut cycle: Vec<String> = path[start..].iter().map(|m| (*m).to_owned()).collect();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if !done.insert(node) {
            return None;
        }
        path.push(node);
        for to in next.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(to, next, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    next.keys()
        .find_map(|node| visit(node, &next, &mut Vec::new(), &mut done))
}

/// The module cycles of the crate in `dir`, one line each.
fn cycles_in(dir: &Path) -> Vec<String> {
    let src = dir.join("src");
    let mut uses: BTreeMap<ModulePath, BTreeSet<ModulePath>> = BTreeMap::new();
    for file in super::rust_files(&src) {
        let relative = file.strip_prefix(&src).unwrap();
        if super::is_test_file(relative) {
            continue;
        }
        let module = module_of(relative);
        let text = std::fs::read_to_string(&file).unwrap();
        // Inline test modules see their file's items through `super::`.
        let text = text
            .split("#[cfg(test)]\nmod tests {")
            .next()
            .unwrap_or_default();
        // Comments name paths without using them.
        let code: String = text
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let targets = referenced_paths(&code, &module);
        uses.entry(module).or_default().extend(targets);
    }
    sibling_edges(&uses)
        .iter()
        .filter_map(|(parent, edges)| {
            let cycle = find_cycle(edges)?;
            let parent = if parent.is_empty() {
                "crate".to_owned()
            } else {
                parent.join("::")
            };
            Some(format!(
                "{}: in {parent}: {}",
                dir.display(),
                cycle.join(" → ")
            ))
        })
        .collect()
}

#[test]
fn no_crate_has_a_module_cycle() {
    let dirs = crate_dirs();
    assert!(dirs.len() > 15, "{dirs:?}");
    let cycles: Vec<String> = dirs.iter().flat_map(|dir| cycles_in(dir)).collect();
    assert!(
        cycles.is_empty(),
        "module import cycles:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn the_checker_sees_cycles_and_use_trees() {
    let module = vec!["a".to_owned(), "b".to_owned()];
    let paths = referenced_paths(
        "use super::{c::{d, e as f}, g};\nlet x = crate::h::i();\nuse super::super::j;",
        &module,
    );
    let paths: Vec<String> = paths.iter().map(|path| path.join("::")).collect();
    assert_eq!(paths, ["a::c::d", "a::c::e", "a::g", "h::i", "j"]);

    let edges = |pairs: &[(&str, &str)]| -> BTreeSet<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    };
    assert_eq!(find_cycle(&edges(&[("a", "b"), ("b", "c")])), None);
    assert_eq!(
        find_cycle(&edges(&[("a", "b"), ("b", "c"), ("c", "a")])),
        Some(vec![
            "a".to_owned(),
            "b".to_owned(),
            "c".to_owned(),
            "a".to_owned()
        ])
    );
}
