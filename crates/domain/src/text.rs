//! The characters free text may hold: the rules every text a caller writes meets (summaries,
//! obstacles, comments, reasons, token names, search words), and the stricter set refused in
//! links.
//!
//! Text is shown to other people — in the web page, in spreadsheets, in terminals. A control
//! character (ESC starts a terminal escape sequence, a lone CR overwrites a line) or a bidi
//! override or isolate (U+202E makes `gnp.exe` display as `exe.png`) makes it display as
//! something it is not, so they are refused where the text comes in, with the field named.

use crate::{Error, Result};

/// The Unicode bidirectional embeddings, overrides and isolates: U+202A–U+202E (LRE, RLE, PDF,
/// LRO, RLO) and U+2066–U+2069 (LRI, RLI, FSI, PDI). The marks (LRM, RLM, ALM) are ordinary
/// text in right-to-left writing and stay allowed in free text.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A control character free text refuses: every C0 control (U+0000–U+001F), DEL and every C1
/// control (U+0080–U+009F), except the line feed and the tab. (A carriage return is allowed
/// only as part of a CRLF line break; see [`check_text`].)
pub fn is_refused_control(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

/// A character that does not show, or changes how its neighbours show: Unicode's format
/// characters (general category Cf: the bidi controls, zero-width spaces and joiners, U+FEFF,
/// the soft hyphen, tag characters…) and the other default-ignorable code points (variation
/// selectors, Hangul fillers, the combining grapheme joiner…). Refused in links, where every
/// character must be what it looks like.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// How a character is named in an error: its code point, never the character itself (a bidi
/// override quoted back would reorder the message).
pub(crate) fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// Checks a free text for `field`: at most `max` characters, no control character but the
/// line feed, the tab and a CRLF line break, no bidi embedding, override or isolate. The error
/// names the field and the first character at fault by its code point.
pub fn check_text(text: &str, field: &str, max: usize) -> Result<()> {
    if text.chars().count() > max {
        return Err(Error::validation(field, format!("at most {max} characters")));
    }
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() == Some(&'\n') {
            continue;
        }
        if is_refused_control(c) {
            return Err(Error::validation(
                field,
                format!("must not contain control characters (found {}); line breaks and tabs are fine", code_point(c)),
            ));
        }
        if is_bidi_control(c) {
            return Err(Error::validation(
                field,
                format!("must not contain bidirectional override or isolate characters (found {})", code_point(c)),
            ));
        }
    }
    Ok(())
}

/// Like [`check_text`] for a one-line text (a name, a key): no line break or tab either.
pub fn check_line(text: &str, field: &str, max: usize) -> Result<()> {
    if let Some(c) = text.chars().find(|c| matches!(c, '\n' | '\r' | '\t')) {
        return Err(Error::validation(field, format!("must be one line (found {})", code_point(c))));
    }
    check_text(text, field, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(r: Result<()>) -> Option<String> {
        match r {
            Err(Error::Validation { field, .. }) => Some(field),
            _ => None,
        }
    }

    #[test]
    fn ordinary_text_passes() {
        for ok in [
            "Done a lot.",
            "line one\nline two\ttabbed",
            "windows\r\nline break",
            "中文摘要，已完成。",
            "עברית \u{200F}mark\u{200E} and العربية \u{061C}",
            "emoji 👍🏽 and a joiner 👩\u{200D}💻",
            "",
        ] {
            assert!(check_text(ok, "summary", 100).is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn controls_and_bidi_controls_are_refused_naming_the_field() {
        for bad in [
            "esc \u{1B}[31m red",
            "nul \0",
            "bell \u{7}",
            "lone cr \r over",
            "cr at the end \r",
            "del \u{7F}",
            "c1 \u{85} next line",
            "c1 \u{9B} csi",
            "override \u{202E}gnp.exe",
            "embedding \u{202A}",
            "pop \u{202C}",
            "isolate \u{2066}x\u{2069}",
            "first strong isolate \u{2068}",
        ] {
            assert_eq!(field_of(check_text(bad, "patch.summary", 100)), Some("patch.summary".into()), "{bad:?}");
        }
        assert_eq!(field_of(check_text(&"a".repeat(11), "reason", 10)), Some("reason".into()));
        let Err(Error::Validation { message, .. }) = check_text("x\u{202E}y", "f", 10) else { panic!("refused") };
        assert!(message.contains("U+202E") && !message.contains('\u{202E}'), "{message}");
    }

    #[test]
    fn one_line_texts_refuse_line_breaks_and_tabs() {
        assert!(check_line("a token name", "name", 100).is_ok());
        for bad in ["a\nb", "a\r\nb", "a\tb", "a\u{1B}b", "a\u{2067}b"] {
            assert_eq!(field_of(check_line(bad, "name", 100)), Some("name".into()), "{bad:?}");
        }
    }

    #[test]
    fn invisible_characters() {
        for c in ['\u{200B}', '\u{200D}', '\u{200E}', '\u{202E}', '\u{2066}', '\u{FEFF}', '\u{00AD}', '\u{E0041}'] {
            assert!(is_invisible(c), "{}", code_point(c));
        }
        for c in ['a', '中', ' ', '/', '\u{00E9}', '\u{0301}'] {
            assert!(!is_invisible(c), "{}", code_point(c));
        }
    }
}
