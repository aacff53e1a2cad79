//! Compiles `init/main.rs`, the PID 1 of every sandboxed command's PID
//! namespace, into a small static program that `src/spawn/linux/init.rs`
//! embeds. It is built with the same compiler and for the same target as
//! the crate, outside cargo (it has no dependencies).

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
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        // Only Linux runs commands in a PID namespace.
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
        .args([
            "-C",
            "target-feature=+crt-static",
            "-C",
            "relocation-model=static",
        ])
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
        "compiling sandbox/init/main.rs for {target} failed ({status}): a static program \
         needs the C library's static archive (libc.a, in Debian's libc6-dev)"
    );
}
