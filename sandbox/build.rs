//! Compiles `init/main.rs`, the PID 1 of every sandboxed command's PID
//! namespace, into a tiny static program that `src/spawn/linux/init.rs`
//! embeds. It is built with the same compiler and for the same target as
//! the crate, outside cargo: it has no dependencies, not even the standard
//! or the C library (Linux on x86_64 and aarch64).

// A build script runs the compiler; the sandbox's spawn rules are for
// commands of tools.
#![allow(clippy::disallowed_methods)]
// A build script reports a broken build by panicking.
#![allow(clippy::expect_used)]

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=init/main.rs");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("wharf-sandbox-init");
    let linux = env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux");
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    if !linux || !matches!(arch.as_str(), "x86_64" | "aarch64") {
        // Only Linux runs commands in a PID namespace; elsewhere the
        // sandbox says that it has no init for this target.
        std::fs::write(&out, b"").expect("OUT_DIR is writable");
        return;
    }
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let mut command = Command::new(&rustc);
    command
        .args(["--edition", "2024", "--crate-name", "wharf_sandbox_init"])
        .args(["--crate-type", "bin", "--target", &target])
        .args([
            "-C",
            "opt-level=s",
            "-C",
            "panic=abort",
            "-C",
            "strip=symbols",
        ])
        .args(["-C", "relocation-model=static", "-C", "link-arg=-static"])
        .args(["-C", "link-arg=-nostartfiles", "-C", "link-arg=-nostdlib"])
        .arg("-o")
        .arg(&out)
        .arg("init/main.rs");
    if let Some(linker) = env::var_os("RUSTC_LINKER") {
        command.arg("-C").arg({
            let mut arg = std::ffi::OsString::from("linker=");
            arg.push(linker);
            arg
        });
    }
    let status = command
        .status()
        .unwrap_or_else(|err| panic!("cannot run {}: {err}", rustc.to_string_lossy()));
    assert!(
        status.success(),
        "compiling sandbox/init/main.rs for {target} failed ({status})"
    );
}
