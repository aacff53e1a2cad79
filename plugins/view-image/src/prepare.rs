//! From the bytes of an image file to the image the model sees: detect the
//! format, refuse what would not fit in memory before decoding it, decode
//! (so a corrupt file is caught here, not by the model's provider), fit it
//! in [`MAX_WIDTH`]×[`MAX_HEIGHT`] and re-encode only when it had to change.
//! Pure functions over bytes, tested natively.

use std::fmt;
use std::io::Cursor;

use image::codecs::gif::GifDecoder;
use image::codecs::jpeg::{JpegDecoder, JpegEncoder};
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngDecoder, PngEncoder};
use image::codecs::webp::WebPDecoder;
use image::imageops::{self, FilterType};
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, Limits, Rgb, RgbImage};

/// The box an image is fitted into (codex's limits for `view_image`).
pub const MAX_WIDTH: u32 = 2048;
pub const MAX_HEIGHT: u32 = 768;

/// The most pixels decoded: 64 megapixels are 256 MiB as RGBA.
pub const MAX_PIXELS: u64 = 64 * 1024 * 1024;

/// The most memory a decoded image may take (its pixels at their own
/// depth: a 16-bit RGBA image takes 8 bytes a pixel). The plugin's memory
/// limit must leave room for this, the file and the resized copy.
pub const MAX_DECODED_BYTES: u64 = 256 * 1024 * 1024;

/// The most bytes of image returned: the host truncates a call's output
/// past 1 MiB, and an image cut short is no image. Leaves room for the text.
pub const MAX_ENCODED_BYTES: usize = 1_000_000;

/// The quality of re-encoded JPEGs.
const JPEG_QUALITY: u8 = 85;

/// The formats models read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Jpeg,
    Gif,
    WebP,
}

impl Format {
    /// The format of a file, from its first bytes (never its name).
    pub fn detect(bytes: &[u8]) -> Result<Format, ViewError> {
        if bytes.is_empty() {
            return Err(ViewError::Empty);
        }
        match image::guess_format(bytes) {
            Ok(ImageFormat::Png) => Ok(Format::Png),
            Ok(ImageFormat::Jpeg) => Ok(Format::Jpeg),
            Ok(ImageFormat::Gif) => Ok(Format::Gif),
            Ok(ImageFormat::WebP) => Ok(Format::WebP),
            Ok(other) => Err(ViewError::Unsupported(
                other
                    .extensions_str()
                    .first()
                    .map_or_else(|| format!("{other:?}"), |ext| ext.to_uppercase()),
            )),
            Err(_) if looks_like_svg(bytes) => Err(ViewError::Unsupported("SVG".to_owned())),
            Err(_) => Err(ViewError::NotAnImage),
        }
    }

    pub fn mime_type(self) -> &'static str {
        match self {
            Format::Png => "image/png",
            Format::Jpeg => "image/jpeg",
            Format::Gif => "image/gif",
            Format::WebP => "image/webp",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Png => "PNG",
            Format::Jpeg => "JPEG",
            Format::Gif => "GIF",
            Format::WebP => "WebP",
        }
    }
}

fn looks_like_svg(bytes: &[u8]) -> bool {
    let head = bytes.get(..512).unwrap_or(bytes);
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start();
    text.starts_with("<svg") || (text.starts_with("<?xml") && text.contains("<svg"))
}

/// Why a file cannot be shown. The messages follow "cannot view PATH: ".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewError {
    Empty,
    NotAnImage,
    /// An image format the tool does not read, by name.
    Unsupported(String),
    /// Larger than [`MAX_PIXELS`] or [`MAX_DECODED_BYTES`], by its header.
    TooLarge {
        width: u32,
        height: u32,
    },
    /// The header or the data is damaged.
    Corrupt {
        format: Format,
        reason: String,
    },
    Encode(String),
}

impl fmt::Display for ViewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const READS: &str = "view_image reads PNG, JPEG, GIF and WebP";
        match self {
            ViewError::Empty => write!(f, "the file is empty ({READS})"),
            ViewError::NotAnImage => write!(f, "not an image ({READS})"),
            ViewError::Unsupported(name) => {
                write!(
                    f,
                    "{name} images are not supported ({READS}; convert it first)"
                )
            }
            ViewError::TooLarge { width, height } => write!(
                f,
                "the image is {width}×{height} pixels, more than the {} megapixels \
                 view_image decodes (scale it down first)",
                MAX_PIXELS / (1024 * 1024)
            ),
            ViewError::Corrupt { format, reason } => {
                write!(f, "not a valid {} image: {reason}", format.name())
            }
            ViewError::Encode(reason) => write!(f, "cannot re-encode the image: {reason}"),
        }
    }
}

impl std::error::Error for ViewError {}

/// The image to attach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub format: Format,
    pub data: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// The file's format and size, when the image is not the file itself.
    pub original: Option<(Format, u32, u32)>,
}

impl Prepared {
    /// "2048×512 PNG, resized from 4000×1000" and the like.
    pub fn describe(&self) -> String {
        let Prepared {
            format,
            width,
            height,
            ..
        } = self;
        let mut text = format!("{width}×{height} {}", format.name());
        if let Some((original, w0, h0)) = self.original {
            if (w0, h0) != (*width, *height) {
                text.push_str(&format!(", resized from {w0}×{h0}"));
            }
            if original != *format {
                text.push_str(&format!(", converted from {}", original.name()));
            }
            if (w0, h0) == (*width, *height) && original == *format {
                text.push_str(", re-encoded");
            }
        }
        text
    }
}

/// The size that fits `width`×`height` in `max_width`×`max_height`,
/// keeping the aspect ratio (rounded, at least one pixel a side) and never
/// enlarging.
pub fn fit(width: u32, height: u32, max_width: u32, max_height: u32) -> (u32, u32) {
    if width <= max_width && height <= max_height {
        return (width, height);
    }
    let (w, h) = (u64::from(width), u64::from(height));
    let (mw, mh) = (u64::from(max_width), u64::from(max_height));
    // Which side binds: width if w/h >= mw/mh.
    let (new_w, new_h) = if w * mh >= h * mw {
        (mw, (h * mw + w / 2) / w)
    } else {
        ((w * mh + h / 2) / h, mh)
    };
    let clamp = |v: u64, max: u32| u32::try_from(v).unwrap_or(max).clamp(1, max.max(1));
    (clamp(new_w, max_width), clamp(new_h, max_height))
}

/// Refuses, from the header alone, an image too large to decode.
pub fn check_size(width: u32, height: u32, bytes_per_pixel: u64) -> Result<(), ViewError> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels > MAX_PIXELS || pixels.saturating_mul(bytes_per_pixel) > MAX_DECODED_BYTES {
        return Err(ViewError::TooLarge { width, height });
    }
    Ok(())
}

/// The image of a file's `bytes`, ready to attach: the file itself when it
/// fits, else resized (PNG, or JPEG for a JPEG) and, if that is still too
/// many bytes, JPEG and smaller until it is not.
pub fn prepare(bytes: &[u8]) -> Result<Prepared, ViewError> {
    let format = Format::detect(bytes)?;
    let image = decode(format, bytes)?;
    let (width, height) = (image.width(), image.height());
    let fitted = fit(width, height, MAX_WIDTH, MAX_HEIGHT);
    if fitted == (width, height) && bytes.len() <= MAX_ENCODED_BYTES {
        return Ok(Prepared {
            format,
            data: bytes.to_vec(),
            width,
            height,
            original: None,
        });
    }
    let preferred = match format {
        Format::Jpeg => Format::Jpeg,
        Format::Png | Format::Gif | Format::WebP => Format::Png,
    };
    let (mut w, mut h) = fitted;
    loop {
        let sized = if (w, h) == (width, height) {
            image.clone()
        } else {
            resize(&image, w, h)
        };
        let mut candidates = vec![preferred];
        if preferred != Format::Jpeg {
            candidates.push(Format::Jpeg);
        }
        for target in candidates {
            let data = encode(&sized, target)?;
            if data.len() <= MAX_ENCODED_BYTES {
                return Ok(Prepared {
                    format: target,
                    data,
                    width: w,
                    height: h,
                    original: Some((format, width, height)),
                });
            }
        }
        if (w, h) == (1, 1) {
            return Err(ViewError::Encode(format!(
                "a 1×1 image takes more than {MAX_ENCODED_BYTES} bytes"
            )));
        }
        // Too many bytes even as JPEG: shrink by a quarter and try again.
        (w, h) = fit(w, h, (w * 3 / 4).max(1), (h * 3 / 4).max(1));
    }
}

/// Decodes the whole image (the first frame of an animation), refusing
/// from the header an image that would take too much memory.
fn decode(format: Format, bytes: &[u8]) -> Result<DynamicImage, ViewError> {
    let corrupt = |err: ImageError| match err {
        ImageError::Limits(_) => ViewError::Corrupt {
            format,
            reason: "it needs more memory than view_image may use".to_owned(),
        },
        other => ViewError::Corrupt {
            format,
            reason: other.to_string(),
        },
    };
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODED_BYTES + MAX_DECODED_BYTES / 4);
    let reader = Cursor::new(bytes);
    match format {
        Format::Png => decode_with(PngDecoder::with_limits(reader, limits.clone()), limits),
        Format::Jpeg => decode_with(JpegDecoder::new(reader), limits),
        Format::Gif => decode_with(GifDecoder::new(reader), limits),
        Format::WebP => decode_with(WebPDecoder::new(reader), limits),
    }
    .map_err(|err| match err {
        Decode::TooLarge(err) => err,
        Decode::Image(err) => corrupt(err),
    })
}

enum Decode {
    TooLarge(ViewError),
    Image(ImageError),
}

fn decode_with(
    decoder: Result<impl ImageDecoder, ImageError>,
    limits: Limits,
) -> Result<DynamicImage, Decode> {
    let mut decoder = decoder.map_err(Decode::Image)?;
    let (width, height) = decoder.dimensions();
    let bytes_per_pixel = u64::from(decoder.color_type().bytes_per_pixel());
    check_size(width, height, bytes_per_pixel).map_err(Decode::TooLarge)?;
    decoder.set_limits(limits).map_err(Decode::Image)?;
    let image = DynamicImage::from_decoder(decoder).map_err(Decode::Image)?;
    // 8-bit RGB(A) from here on: what models see anyway, and the code of
    // one or two pixel types instead of ten keeps the component small.
    Ok(match image {
        DynamicImage::ImageRgb8(_) | DynamicImage::ImageRgba8(_) => image,
        other if other.color().has_alpha() => DynamicImage::ImageRgba8(other.into_rgba8()),
        other => DynamicImage::ImageRgb8(other.into_rgb8()),
    })
}

fn resize(image: &DynamicImage, width: u32, height: u32) -> DynamicImage {
    match image {
        DynamicImage::ImageRgb8(pixels) => DynamicImage::ImageRgb8(imageops::resize(
            pixels,
            width,
            height,
            FilterType::Triangle,
        )),
        DynamicImage::ImageRgba8(pixels) => DynamicImage::ImageRgba8(imageops::resize(
            pixels,
            width,
            height,
            FilterType::Triangle,
        )),
        other => DynamicImage::ImageRgba8(imageops::resize(
            &other.to_rgba8(),
            width,
            height,
            FilterType::Triangle,
        )),
    }
}

fn encode(image: &DynamicImage, format: Format) -> Result<Vec<u8>, ViewError> {
    let mut data = Vec::new();
    let result = match format {
        Format::Jpeg => flatten(image)
            .write_with_encoder(JpegEncoder::new_with_quality(&mut data, JPEG_QUALITY)),
        Format::Png | Format::Gif | Format::WebP => {
            // Balanced, not the encoder's default Fast: a resized photo or
            // gradient is a tenth of the bytes for ~30 ms more.
            image.write_with_encoder(PngEncoder::new_with_quality(
                &mut data,
                CompressionType::Default,
                PngFilter::Adaptive,
            ))
        }
    };
    result.map_err(|err| ViewError::Encode(err.to_string()))?;
    Ok(data)
}

/// The image as 8-bit RGB, transparent parts over white (JPEG has no
/// alpha, and what lies under a transparent pixel is often black).
fn flatten(image: &DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let rgba = image.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over_white = |c: u8| {
            let c = u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a));
            u8::try_from((c + 127) / 255).unwrap_or(u8::MAX)
        };
        Rgb([over_white(r), over_white(g), over_white(b)])
    })
}

#[cfg(test)]
mod tests;
