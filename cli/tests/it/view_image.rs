//! view_image, the embedded WASM plugin: images the test writes in the
//! working directory, shown through `wharf tool call`.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use serde_json::Value;

use super::*;

/// Writes a `width`×`height` gradient as `format` to `cwd/name`.
fn write_image(env: &Env, name: &str, width: u32, height: u32, format: ImageFormat) -> usize {
    let image = RgbImage::from_fn(width, height, |x, y| {
        Rgb([
            (x % 256) as u8,
            (y % 256) as u8,
            ((x / 4 + y / 4) % 256) as u8,
        ])
    });
    let mut data = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(image)
        .write_to(&mut data, format)
        .unwrap();
    let data = data.into_inner();
    std::fs::write(env.cwd().join(name), &data).unwrap();
    data.len()
}

/// `wharf tool call view_image --json` on `path`: the exit code and the
/// outcome.
fn view(env: &Env, path: &str) -> (i32, Value) {
    let args = serde_json::json!({ "path": path }).to_string();
    let out = env.wharf(&["tool", "call", "view_image", "--args", &args, "--json"]);
    let outcome = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|err| panic!("{err}:\n{}\n{}", out.stdout, out.stderr));
    (out.code, outcome)
}

/// The text and the image (mime type, bytes) of a successful call.
#[track_caller]
fn shown(env: &Env, path: &str) -> (String, String, u64) {
    let (code, outcome) = view(env, path);
    assert_eq!(code, 0, "{outcome:#}");
    let content = outcome["content"].as_array().unwrap();
    assert_eq!(content.len(), 2, "{outcome:#}");
    assert_eq!(content[0]["type"], "text");
    assert_eq!(content[1]["type"], "image");
    (
        content[0]["text"].as_str().unwrap().to_owned(),
        content[1]["mime_type"].as_str().unwrap().to_owned(),
        content[1]["bytes"].as_u64().unwrap(),
    )
}

#[test]
fn images_that_fit_are_attached_as_they_are() {
    let env = Env::new();
    let cases = [
        ("shot.png", ImageFormat::Png, "image/png", "300×200 PNG"),
        ("photo.jpg", ImageFormat::Jpeg, "image/jpeg", "300×200 JPEG"),
        ("anim.gif", ImageFormat::Gif, "image/gif", "300×200 GIF"),
        ("icon.webp", ImageFormat::WebP, "image/webp", "300×200 WebP"),
    ];
    for (name, format, mime, size) in cases {
        let len = write_image(&env, name, 300, 200, format);
        let (text, mime_type, bytes) = shown(&env, name);
        assert_eq!(text, format!("image: {name} ({size})"));
        assert_eq!(mime_type, mime);
        assert_eq!(bytes, len as u64, "{name}: the file itself");
    }

    // Without --json: the text, then a line for the image.
    let out = env
        .wharf(&[
            "tool",
            "call",
            "view_image",
            "--args",
            r#"{"path":"shot.png"}"#,
        ])
        .success();
    assert!(
        out.stdout
            .starts_with("image: shot.png (300×200 PNG)\n[image: image/png, "),
        "{}",
        out.stdout
    );
}

#[test]
fn large_images_are_fitted_in_2048_by_768() {
    let env = Env::new();
    write_image(&env, "wide.png", 4000, 1000, ImageFormat::Png);
    let (text, mime, bytes) = shown(&env, "wide.png");
    assert_eq!(
        text,
        "image: wide.png (2048×512 PNG, resized from 4000×1000)"
    );
    assert_eq!(mime, "image/png");
    assert!(bytes > 0 && bytes <= 1_000_000, "{bytes}");

    write_image(&env, "tall.jpg", 1200, 1600, ImageFormat::Jpeg);
    let tall = display(&env.cwd().join("tall.jpg"));
    let (text, mime, _) = shown(&env, &tall);
    assert_eq!(
        text,
        format!("image: {tall} (576×768 JPEG, resized from 1200×1600)")
    );
    assert_eq!(mime, "image/jpeg");
}

#[test]
fn paths_outside_the_workspace_are_refused() {
    let env = Env::new();
    // Beside the working directory, not in it (read-only mode reads the
    // workspace only).
    let outside = env.dir.path().join("secret.png");
    std::fs::write(&outside, b"\x89PNG\r\n\x1a\n").unwrap();
    std::os::unix::fs::symlink(&outside, env.cwd().join("link.png")).unwrap();
    for path in [
        display(&outside),
        "../secret.png".to_owned(),
        "link.png".to_owned(),
    ] {
        let (code, outcome) = view(&env, &path);
        assert_eq!(code, 1, "{path}: {outcome:#}");
        let message = outcome["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("denied: cannot view {path}: ")),
            "{path}: {message}"
        );
        assert!(
            message.ends_with("(view_image reads only files inside the readable roots)"),
            "{path}: {message}"
        );
    }
}

#[test]
fn bad_files_are_tool_errors() {
    let env = Env::new();
    let cwd = env.cwd();
    write_image(&env, "whole.png", 64, 64, ImageFormat::Png);
    let whole = std::fs::read(cwd.join("whole.png")).unwrap();
    std::fs::write(cwd.join("broken.png"), &whole[..whole.len() / 2]).unwrap();
    std::fs::write(cwd.join("notes.png"), "not a picture\n").unwrap();
    std::fs::write(cwd.join("empty.png"), "").unwrap();
    std::fs::write(cwd.join("old.bmp"), b"BM\x3a\0\0\0\0\0\0\0").unwrap();
    std::fs::create_dir(cwd.join("shots")).unwrap();
    // A GIF that says it is 65535×65535: refused from its header.
    let mut huge = b"GIF89a\xff\xff\xff\xff\0\0\0".to_vec();
    huge.extend_from_slice(&[0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 0, 0x3b]);
    std::fs::write(cwd.join("huge.gif"), huge).unwrap();

    // (path, start of the message)
    let cases = [
        (
            "broken.png",
            "cannot view broken.png: not a valid PNG image: ",
        ),
        (
            "notes.png",
            "cannot view notes.png: not an image (view_image reads PNG, JPEG, GIF and WebP)",
        ),
        (
            "empty.png",
            "cannot view empty.png: the file is empty (view_image reads PNG, JPEG, GIF and WebP)",
        ),
        (
            "old.bmp",
            "cannot view old.bmp: BMP images are not supported (view_image reads PNG, JPEG, GIF and WebP; convert it first)",
        ),
        ("shots", "cannot view shots: "),
        ("missing.png", "cannot view missing.png: no such file ("),
        (
            "huge.gif",
            "cannot view huge.gif: the image is 65535×65535 pixels, more than the 64 megapixels view_image decodes",
        ),
    ];
    for (path, expected) in cases {
        let (code, outcome) = view(&env, path);
        assert_eq!(code, 1, "{path}: {outcome:#}");
        assert_eq!(outcome["is_error"], true, "{path}: {outcome:#}");
        let content = outcome["content"].as_array().unwrap();
        assert_eq!(content.len(), 1, "{path}: {outcome:#}");
        let text = content[0]["text"].as_str().unwrap();
        assert!(text.starts_with(expected), "{path}: {text}");
    }
    let (_, outcome) = view(&env, "shots");
    assert!(
        outcome["content"][0]["text"]
            .as_str()
            .unwrap()
            .ends_with("is a directory"),
        "{outcome:#}"
    );
}
