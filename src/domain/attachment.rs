//! Documents attached to applications (structural calculations, drawings,
//! photographs): which types are taken, how a type is told from the bytes,
//! and what a stored file may be called.
//!
//! Pure. The declared `Content-Type` is never trusted on its own: the bytes
//! must be the type they claim to be, so a script renamed `photo.png` is
//! refused however it is labelled.

use std::fmt;

use super::asset::InvalidField;

/// Default largest document accepted, in bytes (20 MB).
pub const DEFAULT_MAX_BYTES: usize = 20 * 1024 * 1024;
/// Most documents one application may carry.
pub const MAX_PER_APPLICATION: u32 = 50;

/// A document type the councils take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentType {
    /// Portable Document Format.
    Pdf,
    /// Portable Network Graphics.
    Png,
    /// JPEG (JFIF or Exif).
    Jpeg,
}

impl DocumentType {
    /// Every type taken.
    pub const ALL: [DocumentType; 3] = [DocumentType::Pdf, DocumentType::Png, DocumentType::Jpeg];

    /// The media type.
    pub fn media_type(self) -> &'static str {
        match self {
            DocumentType::Pdf => "application/pdf",
            DocumentType::Png => "image/png",
            DocumentType::Jpeg => "image/jpeg",
        }
    }

    /// The type a media type names (parameters and case ignored).
    pub fn from_media_type(value: &str) -> Option<DocumentType> {
        let essence = value.split(';').next().unwrap_or("").trim();
        DocumentType::ALL
            .into_iter()
            .find(|t| t.media_type().eq_ignore_ascii_case(essence))
    }
}

impl fmt::Display for DocumentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.media_type())
    }
}

/// PNG: the eight-byte signature, then the IHDR chunk that must come first
/// (length 13).
const PNG_HEAD: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR";

/// The type the bytes are, judged by their structure: a PDF header
/// (`%PDF-1.x` or `%PDF-2.x`) with an `%%EOF` marker in the last kilobyte; a
/// PNG signature followed by its IHDR chunk; a JPEG start-of-image marker
/// followed by another marker, and an end-of-image marker at the end.
pub fn sniff(bytes: &[u8]) -> Option<DocumentType> {
    if is_pdf(bytes) {
        Some(DocumentType::Pdf)
    } else if bytes.starts_with(PNG_HEAD) {
        Some(DocumentType::Png)
    } else if is_jpeg(bytes) {
        Some(DocumentType::Jpeg)
    } else {
        None
    }
}

fn is_pdf(bytes: &[u8]) -> bool {
    let head = bytes.len() >= 8
        && bytes.starts_with(b"%PDF-")
        && matches!(bytes[5], b'1' | b'2')
        && bytes[6] == b'.'
        && bytes[7].is_ascii_digit();
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    head && tail.windows(5).any(|w| w == b"%%EOF")
}

fn is_jpeg(bytes: &[u8]) -> bool {
    // Some writers pad after the end-of-image marker; allow a little.
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    bytes.len() >= 4
        && bytes[..3] == [0xFF, 0xD8, 0xFF]
        && bytes[3] >= 0xC0
        && bytes[3] != 0xFF
        && end >= 2
        && bytes[end - 2..end] == [0xFF, 0xD9]
}

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The declared type is not one taken.
    #[error("{declared:?} is not taken: send application/pdf, image/png or image/jpeg")]
    UnsupportedType {
        /// The declared `Content-Type`.
        declared: String,
    },
    /// The bytes are not the type declared.
    #[error("the body is declared as {declared} but its bytes {actual}")]
    Mismatch {
        /// The declared type.
        declared: DocumentType,
        /// What the bytes are, in words.
        actual: String,
    },
    /// Nothing was sent.
    #[error("the document is empty")]
    Empty,
}

/// Checks a document before it is stored: its declared type must be one
/// taken, and the bytes must be that type.
pub fn check(declared: &str, bytes: &[u8]) -> Result<DocumentType, Refusal> {
    let Some(wanted) = DocumentType::from_media_type(declared) else {
        return Err(Refusal::UnsupportedType {
            declared: declared.to_string(),
        });
    };
    if bytes.is_empty() {
        return Err(Refusal::Empty);
    }
    match sniff(bytes) {
        Some(t) if t == wanted => Ok(t),
        Some(t) => Err(Refusal::Mismatch {
            declared: wanted,
            actual: format!("are {t}"),
        }),
        None => Err(Refusal::Mismatch {
            declared: wanted,
            actual: "are not a complete PDF, PNG or JPEG file".into(),
        }),
    }
}

/// Validates the name a document is stored and downloaded under: 1 to 200
/// characters, no path (`/`, `\`), no control characters and no quotes (it
/// goes into a `Content-Disposition` header), not `.` or `..`.
pub fn file_name(name: &str) -> Result<String, InvalidField> {
    let n = name.trim();
    let bad = |m: &str| Err(InvalidField::new("filename", m));
    if n.is_empty() || n.chars().count() > 200 {
        return bad("must be 1 to 200 characters");
    }
    if n.chars()
        .any(|c| c.is_control() || matches!(c, '/' | '\\' | '"'))
    {
        return bad("must not contain a path, quotes or control characters");
    }
    if n == "." || n == ".." {
        return bad("must name a file");
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pdf() -> Vec<u8> {
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
            .to_vec()
    }

    fn png() -> Vec<u8> {
        let mut b = PNG_HEAD.to_vec();
        b.extend_from_slice(&[
            0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xDE,
        ]);
        b
    }

    fn jpeg() -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        b.extend_from_slice(b"JFIF\0");
        b.extend_from_slice(&[0xFF, 0xD9]);
        b
    }

    #[test]
    fn each_type_is_known_by_its_bytes() {
        assert_eq!(sniff(&pdf()), Some(DocumentType::Pdf));
        assert_eq!(sniff(&png()), Some(DocumentType::Png));
        assert_eq!(sniff(&jpeg()), Some(DocumentType::Jpeg));
        assert_eq!(sniff(b"<html><script>alert(1)</script>"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn truncated_or_decorated_files_are_not_taken() {
        // A PDF header on something that never ends as a PDF.
        assert_eq!(sniff(b"%PDF-1.4 and then a shell script"), None);
        // The PNG signature alone, without its IHDR chunk.
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n<?php"), None);
        // A JPEG cut off before its end-of-image marker.
        let j = jpeg();
        assert_eq!(sniff(&j[..j.len() - 2]), None);
        // Padding after the end marker is fine.
        let mut padded = jpeg();
        padded.extend_from_slice(&[0, 0, 0]);
        assert_eq!(sniff(&padded), Some(DocumentType::Jpeg));
    }

    #[test]
    fn a_lying_content_type_is_refused() {
        assert_eq!(check("application/pdf", &pdf()), Ok(DocumentType::Pdf));
        assert_eq!(
            check("IMAGE/PNG; charset=binary", &png()),
            Ok(DocumentType::Png)
        );
        let e = check("image/png", &pdf()).unwrap_err();
        assert_eq!(
            e,
            Refusal::Mismatch {
                declared: DocumentType::Png,
                actual: "are application/pdf".into()
            }
        );
        assert!(matches!(
            check("application/pdf", b"#!/bin/sh\nrm -rf /\n"),
            Err(Refusal::Mismatch { .. })
        ));
        assert!(matches!(
            check("text/html", &pdf()),
            Err(Refusal::UnsupportedType { .. })
        ));
        assert_eq!(check("image/jpeg", b""), Err(Refusal::Empty));
    }

    #[test]
    fn file_names_carry_no_path_or_header_breakers() {
        assert_eq!(file_name(" calcs.pdf ").unwrap(), "calcs.pdf");
        for bad in [
            "",
            "../etc/passwd",
            "a\\b.pdf",
            "x\".pdf",
            "a\r\nSet-Cookie: x",
            "..",
        ] {
            assert!(file_name(bad).is_err(), "{bad:?}");
        }
        assert!(file_name(&"a".repeat(201)).is_err());
    }
}
