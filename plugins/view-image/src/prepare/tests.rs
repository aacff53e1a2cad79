#![allow(clippy::unwrap_used, clippy::expect_used)]

use image::{ImageFormat, Rgba, RgbaImage};

use super::*;

/// A `width`×`height` gradient encoded as `format`.
fn encoded(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let image = RgbaImage::from_fn(width, height, |x, y| {
        Rgba([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8, 255])
    });
    let image = match format {
        // JPEG has no alpha.
        ImageFormat::Jpeg => DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(image).to_rgb8()),
        _ => DynamicImage::ImageRgba8(image),
    };
    let mut data = Cursor::new(Vec::new());
    image.write_to(&mut data, format).unwrap();
    data.into_inner()
}

/// A `width`×`height` image of noise: compresses badly.
fn noise_png(width: u32, height: u32) -> Vec<u8> {
    let mut state = 0x2545_f491_u32;
    let image = RgbaImage::from_fn(width, height, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        Rgba(state.to_le_bytes())
    });
    let mut data = Cursor::new(Vec::new());
    image.write_to(&mut data, ImageFormat::Png).unwrap();
    data.into_inner()
}

fn dimensions(data: &[u8]) -> (u32, u32) {
    let image = image::load_from_memory(data).unwrap();
    (image.width(), image.height())
}

#[test]
fn fit_keeps_the_aspect_ratio_and_never_enlarges() {
    // (width, height) → fitted in 2048×768
    let cases = [
        ((100, 50), (100, 50)),
        ((2048, 768), (2048, 768)),
        ((4000, 1000), (2048, 512)),
        ((4096, 1536), (2048, 768)),
        ((1000, 4000), (192, 768)),
        ((3000, 3000), (768, 768)),
        ((2049, 1), (2048, 1)),
        ((100_000, 1), (2048, 1)),
        ((1, 100_000), (1, 768)),
        ((3000, 1000), (2048, 683)),
        ((u32::MAX, u32::MAX), (768, 768)),
    ];
    for ((w, h), expected) in cases {
        assert_eq!(fit(w, h, MAX_WIDTH, MAX_HEIGHT), expected, "{w}×{h}");
    }
}

#[test]
fn formats_are_told_by_content() {
    let cases: &[(&[u8], Result<Format, ViewError>)] = &[
        (&encoded(2, 2, ImageFormat::Png), Ok(Format::Png)),
        (&encoded(2, 2, ImageFormat::Jpeg), Ok(Format::Jpeg)),
        (&encoded(2, 2, ImageFormat::Gif), Ok(Format::Gif)),
        (&encoded(2, 2, ImageFormat::WebP), Ok(Format::WebP)),
        (b"", Err(ViewError::Empty)),
        (b"fn main() {}\n", Err(ViewError::NotAnImage)),
        (
            b"BM\x3a\0\0\0\0\0\0\0",
            Err(ViewError::Unsupported("BMP".to_owned())),
        ),
        (
            b"II*\0\x08\0\0\0",
            Err(ViewError::Unsupported("TIFF".to_owned())),
        ),
        (
            b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            Err(ViewError::Unsupported("SVG".to_owned())),
        ),
    ];
    for (bytes, expected) in cases {
        assert_eq!(&Format::detect(bytes), expected, "{:?}", bytes.get(..8));
    }
}

#[test]
fn huge_images_are_refused_from_the_header() {
    assert_eq!(check_size(8192, 8192, 4), Ok(()));
    assert_eq!(
        check_size(8193, 8192, 4),
        Err(ViewError::TooLarge {
            width: 8193,
            height: 8192
        })
    );
    // 32 megapixels of 16-bit RGBA are 256 MiB and more.
    assert!(check_size(8192, 4097, 8).is_err());
    assert!(check_size(u32::MAX, u32::MAX, 16).is_err());

    // A GIF whose screen is 65535×65535 and holds nothing: refused before
    // anything is allocated for its pixels.
    let mut gif = b"GIF89a".to_vec();
    gif.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0]);
    // One 1×1 frame descriptor, its (empty) data and the trailer.
    gif.extend_from_slice(&[0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 0, 0x3b]);
    let err = prepare(&gif).unwrap_err();
    assert_eq!(
        err,
        ViewError::TooLarge {
            width: 65535,
            height: 65535
        }
    );
    assert_eq!(
        err.to_string(),
        "the image is 65535×65535 pixels, more than the 64 megapixels view_image decodes (scale it down first)"
    );
}

#[test]
fn an_image_that_fits_is_the_file_itself() {
    for format in [
        ImageFormat::Png,
        ImageFormat::Jpeg,
        ImageFormat::Gif,
        ImageFormat::WebP,
    ] {
        let bytes = encoded(300, 200, format);
        let prepared = prepare(&bytes).unwrap();
        assert_eq!(prepared.data, bytes, "{format:?}");
        assert_eq!((prepared.width, prepared.height), (300, 200));
        assert_eq!(prepared.original, None);
        assert_eq!(prepared.format.mime_type(), format.to_mime_type());
    }
}

#[test]
fn a_large_image_is_fitted_and_reencoded() {
    // (input format, size, output format, fitted size, description)
    let cases = [
        (
            ImageFormat::Png,
            (2560, 600),
            Format::Png,
            (2048, 480),
            "2048×480 PNG, resized from 2560×600",
        ),
        (
            ImageFormat::Jpeg,
            (1200, 1600),
            Format::Jpeg,
            (576, 768),
            "576×768 JPEG, resized from 1200×1600",
        ),
        (
            ImageFormat::Gif,
            (200, 900),
            Format::Png,
            (171, 768),
            "171×768 PNG, resized from 200×900, converted from GIF",
        ),
        (
            ImageFormat::WebP,
            (800, 1000),
            Format::Png,
            (614, 768),
            "614×768 PNG, resized from 800×1000, converted from WebP",
        ),
    ];
    for (input, (w, h), format, fitted, description) in cases {
        let prepared = prepare(&encoded(w, h, input)).unwrap();
        assert_eq!(prepared.format, format, "{input:?}");
        assert_eq!((prepared.width, prepared.height), fitted, "{input:?}");
        assert_eq!(dimensions(&prepared.data), fitted, "{input:?}");
        assert_eq!(
            image::guess_format(&prepared.data).unwrap().to_mime_type(),
            format.mime_type()
        );
        assert_eq!(prepared.describe(), description);
    }
}

#[test]
fn too_many_bytes_become_a_jpeg() {
    // 1000×600 of noise fits the box but is ~2.4 MB as PNG.
    let bytes = noise_png(1000, 600);
    assert!(bytes.len() > MAX_ENCODED_BYTES);
    let prepared = prepare(&bytes).unwrap();
    assert!(prepared.data.len() <= MAX_ENCODED_BYTES);
    assert_eq!(prepared.format, Format::Jpeg);
    assert_eq!(
        dimensions(&prepared.data),
        (prepared.width, prepared.height)
    );
    assert!(prepared.describe().contains("converted from PNG"));
}

#[test]
fn damaged_files_are_errors() {
    let png = encoded(64, 64, ImageFormat::Png);
    let truncated = &png[..png.len() / 2];
    let err = prepare(truncated).unwrap_err();
    assert!(
        matches!(
            err,
            ViewError::Corrupt {
                format: Format::Png,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with("not a valid PNG image: "),
        "{err}"
    );

    // A JPEG with only its start marker.
    let err = prepare(b"\xff\xd8\xff\xe0garbage").unwrap_err();
    assert!(
        matches!(
            err,
            ViewError::Corrupt {
                format: Format::Jpeg,
                ..
            }
        ),
        "{err:?}"
    );

    let mut gif = encoded(8, 8, ImageFormat::Gif);
    gif.truncate(20);
    assert!(matches!(
        prepare(&gif),
        Err(ViewError::Corrupt {
            format: Format::Gif,
            ..
        })
    ));
}

#[test]
fn transparency_becomes_white_in_a_jpeg() {
    let image = DynamicImage::ImageRgba8(RgbaImage::from_pixel(2, 1, Rgba([0, 0, 0, 0])));
    assert_eq!(flatten(&image).get_pixel(0, 0).0, [255, 255, 255]);
    let image = DynamicImage::ImageRgba8(RgbaImage::from_pixel(2, 1, Rgba([10, 20, 30, 255])));
    assert_eq!(flatten(&image).get_pixel(1, 0).0, [10, 20, 30]);
}
