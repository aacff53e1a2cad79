//! Builds the WASM guests this binary embeds (first-party plugins) or its
//! tests load (examples), for `wasm32-wasip2`, so that a plain `cargo build`
//! or `cargo run` needs no manual step.
//!
//! The guests build with a nested cargo into their own target directory
//! (sharing the outer build's would deadlock on its lock), in release mode:
//! they are small, and their speed is what plugin calls measure.

// A build script that drives cargo and rustup; nothing here runs at wharf's
// run time, so the rule that only `wharf-sandbox` spawns processes does not
// apply.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

/// (package, produced file, environment variable pointing at the copy)
const GUESTS: &[(&str, &str, &str)] = &[
    (
        "wharf-plugin-apply-patch",
        "wharf_plugin_apply_patch.wasm",
        "WHARF_APPLY_PATCH_WASM",
    ),
    (
        "wharf-plugin-view-image",
        "wharf_plugin_view_image.wasm",
        "WHARF_VIEW_IMAGE_WASM",
    ),
    (
        "wharf-plugin-update-plan",
        "wharf_plugin_update_plan.wasm",
        "WHARF_UPDATE_PLAN_WASM",
    ),
    // Not embedded: the third-party example, which tests install with
    // `wharf plugin add`, and test plugins.
    (
        "wharf-example-grep",
        "wharf_example_grep.wasm",
        "WHARF_EXAMPLE_GREP_WASM",
    ),
    (
        "wharf-test-guest-hostile",
        "wharf_test_guest_hostile.wasm",
        "WHARF_TEST_HOSTILE_WASM",
    ),
    // The example with a network grant, installed by the tests with
    // `wharf plugin add`.
    (
        "wharf-example-http-fetch",
        "wharf_example_http_fetch.wasm",
        "WHARF_EXAMPLE_HTTP_FETCH_WASM",
    ),
    // Tries the network every way it can: the network grant's tests.
    (
        "wharf-test-guest-net",
        "wharf_test_guest_net.wasm",
        "WHARF_TEST_NET_WASM",
    ),
    // The smallest plugin, for the benchmarks' trivial call.
    (
        "wharf-test-guest-echo",
        "wharf_test_guest_echo.wasm",
        "WHARF_TEST_ECHO_WASM",
    ),
    // 16 MiB of initialized memory: a heavy component's per-call cost.
    (
        "wharf-test-guest-heavy",
        "wharf_test_guest_heavy.wasm",
        "WHARF_TEST_HEAVY_WASM",
    ),
    // The example hook plugin, installed by the tests with `wharf plugin add`.
    (
        "wharf-example-secret-guard",
        "wharf_example_secret_guard.wasm",
        "WHARF_EXAMPLE_SECRET_GUARD_WASM",
    ),
    // Hooks that answer every way, well and badly: the hook tests.
    (
        "wharf-test-guest-hooks",
        "wharf_test_guest_hooks.wasm",
        "WHARF_TEST_HOOKS_WASM",
    ),
    // A wharf:plugin@0.1.0 component (wit-bindgen against wit/0.1.0):
    // 0.1.0 plugins keep loading.
    (
        "wharf-test-guest-legacy",
        "wharf_test_guest_legacy.wasm",
        "WHARF_TEST_LEGACY_WASM",
    ),
];

/// The shadow stack of the first-party guests (see `main`).
const GUEST_STACK_BYTES: u32 = 256 * 1024;

fn main() {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir
        .parent()
        .map_or_else(|| manifest_dir.clone(), Path::to_path_buf);
    for watched in [
        "wit",
        "plugin-api/src",
        "plugins",
        "examples",
        "tests/guests",
        "Cargo.lock",
    ] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join(watched).display()
        );
    }
    let out_dir = PathBuf::from(env("OUT_DIR"));
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace.join("target"), PathBuf::from)
        .join("wasm-guests");

    ensure_target();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .current_dir(&workspace)
        .args([
            "build",
            "--profile",
            "guest",
            "--target",
            TARGET,
            "--target-dir",
        ])
        .arg(&target_dir);
    for (package, _, _) in GUESTS {
        build.args(["--package", package]);
    }
    // Flags and wrappers meant for the host build (clippy's among them)
    // must not leak into the guests' build.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CLIPPY_ARGS",
        "CLIPPY_CONF_DIR",
    ] {
        build.env_remove(var);
    }
    // A 256 KiB stack instead of Rust's 1 MiB: a fresh instance per call
    // zeroes the guest's whole initial memory when it is freed, so a
    // smaller one makes every call cheaper. The stack comes first in
    // memory, so an overflow traps rather than corrupting data.
    build.env(
        "CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS",
        format!("-C link-arg=-zstack-size={GUEST_STACK_BYTES}"),
    );
    let status = build
        .status()
        .unwrap_or_else(|err| fail(&format!("cannot run cargo to build the WASM guests: {err}")));
    if !status.success() {
        fail("building the WASM guests for wasm32-wasip2 failed (see the output above)");
    }
    for (_, file, var) in GUESTS {
        let built = target_dir.join(TARGET).join("guest").join(file);
        let copy = out_dir.join(file);
        std::fs::copy(&built, &copy)
            .unwrap_or_else(|err| fail(&format!("cannot copy {}: {err}", built.display())));
        println!("cargo:rustc-env={var}={}", copy.display());
    }
}

/// Installs the `wasm32-wasip2` standard library when it is missing, so that
/// a fresh machine with only rustup builds wharf with no manual step.
fn ensure_target() {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|s| PathBuf::from(s.trim()));
    let installed = sysroot
        .as_ref()
        .is_some_and(|root| root.join("lib/rustlib").join(TARGET).exists());
    if installed {
        return;
    }
    println!(
        "cargo:warning=installing the {TARGET} target with rustup (needed for the WASM plugins)"
    );
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status();
    if !status.is_ok_and(|s| s.success()) {
        fail(&format!(
            "the {TARGET} target is missing and `rustup target add {TARGET}` failed; install it and rebuild"
        ));
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| fail(&format!("cargo did not set {name}")))
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}
