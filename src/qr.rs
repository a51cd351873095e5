//! QR codes as SVG, drawn in Rust (no system library, nothing fetched).

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// `text` as a QR code: black modules on white with the quiet zone the standard asks
/// for, sized by the page (the SVG scales; `min_px` is its smallest natural size).
/// Error correction M survives a scratched screen or a smudged print.
pub fn svg(text: &str, min_px: u32) -> String {
    match QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M) {
        Ok(code) => code
            .render::<svg::Color<'_>>()
            .min_dimensions(min_px, min_px)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .quiet_zone(true)
            .build()
            // Without the XML declaration the same text is a standalone SVG file and
            // can be put inline in an HTML page.
            .split_once("<svg")
            .map(|(_, rest)| format!("<svg{rest}"))
            .unwrap_or_default(),
        // Only text longer than a QR code holds (~2 KB) fails; ours are codes and URLs.
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_code_becomes_an_svg_document() {
        let svg = super::svg("ABCDE-FGHJK", 160);
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("#000000"));
    }
}
