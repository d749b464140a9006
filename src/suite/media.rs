//! Image parts: a local file is read at load time, size-checked, its media
//! type taken from its magic bytes (png, jpeg, webp, gif) and turned into a
//! `data:` URL; an `http(s)://` or `data:` URL is passed through. Files are
//! read once per suite load, however many cases use them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::record::{Image, ImageFile};

/// Default largest image file (`--max-image-mb` changes it).
pub const DEFAULT_MAX_IMAGE_BYTES: u64 = 20 * 1024 * 1024;

/// Images read so far in one suite load.
pub(crate) struct Images {
    dir: PathBuf,
    max_bytes: u64,
    cache: HashMap<String, Image>,
}

impl Images {
    pub fn new(dir: &Path, max_bytes: u64) -> Images {
        Images {
            dir: dir.to_path_buf(),
            max_bytes,
            cache: HashMap::new(),
        }
    }

    /// The image part for `source` (a path relative to the suite, or a URL).
    pub fn get(&mut self, source: &str, detail: Option<String>) -> Result<Image, String> {
        if let Some(d) = &detail {
            if !["low", "high", "auto"].contains(&d.as_str()) {
                return Err(format!("image `detail` is `{d}`: use low, high or auto"));
            }
        }
        let s = source.trim();
        if s.starts_with("https://") || s.starts_with("http://") || s.starts_with("data:image/") {
            return Ok(Image {
                url: Arc::from(s),
                detail,
                file: None,
            });
        }
        if let Some(img) = self.cache.get(s) {
            return Ok(Image {
                detail,
                ..img.clone()
            });
        }
        let img = self.read(s)?;
        self.cache.insert(s.to_string(), img.clone());
        Ok(Image { detail, ..img })
    }

    fn read(&self, shown: &str) -> Result<Image, String> {
        let path = self.dir.join(shown);
        let meta = std::fs::metadata(&path).map_err(|e| {
            format!("cannot read image {shown}: {e} (paths are relative to the suite file; URLs must start with https://)")
        })?;
        if meta.len() > self.max_bytes {
            return Err(format!(
                "image {shown} is {} bytes, over the limit of {} bytes: shrink it or raise --max-image-mb",
                meta.len(),
                self.max_bytes
            ));
        }
        let bytes = std::fs::read(&path).map_err(|e| format!("cannot read image {shown}: {e}"))?;
        let media_type = media_type(&bytes).ok_or_else(|| {
            format!("image {shown} is not a PNG, JPEG, WebP or GIF file (checked by its first bytes): convert it to one of those")
        })?;
        let sha256: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut url = format!("data:{media_type};base64,");
        base64::engine::general_purpose::STANDARD.encode_string(&bytes, &mut url);
        Ok(Image {
            url: Arc::from(url),
            detail: None,
            file: Some(ImageFile {
                path: shown.to_string(),
                sha256,
                media_type: media_type.to_string(),
                bytes: bytes.len() as u64,
            }),
        })
    }
}

/// The media type from the file's magic bytes.
pub(crate) fn media_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
