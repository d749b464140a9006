//! Unit tests of `suite::media`.

use super::*;

#[test]
fn media_types_come_from_magic_bytes() {
    assert_eq!(media_type(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
    assert_eq!(media_type(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
    assert_eq!(media_type(b"GIF89a..."), Some("image/gif"));
    assert_eq!(media_type(b"RIFF\x10\0\0\0WEBPVP8 "), Some("image/webp"));
    assert_eq!(media_type(b"<svg/>"), None);
    assert_eq!(media_type(b""), None);
}

#[test]
fn files_become_data_urls_and_limits_hold() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.gif"), b"GIF89a\x01\x00").unwrap();
    std::fs::write(dir.path().join("a.txt"), b"hello").unwrap();
    let mut images = Images::new(dir.path(), 100);
    let img = images.get("a.gif", Some("low".into())).unwrap();
    assert!(img.url.starts_with("data:image/gif;base64,R0lGODlh"));
    let file = img.file.unwrap();
    assert_eq!((file.media_type.as_str(), file.bytes), ("image/gif", 8));
    assert_eq!(file.sha256.len(), 64);
    assert!(images.get("a.txt", None).unwrap_err().contains("not a PNG"));
    assert!(images
        .get("nope.png", None)
        .unwrap_err()
        .contains("cannot read image nope.png"));
    assert!(images
        .get("a.gif", Some("max".into()))
        .unwrap_err()
        .contains("low, high or auto"));
    let url = images.get("https://example.com/x.png", None).unwrap();
    assert!(url.file.is_none());
    let mut small = Images::new(dir.path(), 4);
    assert!(small
        .get("a.gif", None)
        .unwrap_err()
        .contains("over the limit"));
}
