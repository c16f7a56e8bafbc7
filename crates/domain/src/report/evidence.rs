//! Evidence links: which URLs a report may carry, and the one spelling each is stored in.
//!
//! A link is read by people deciding whether to trust it, so it must be what it looks like:
//! an `http` or `https` URL (the scheme in any case), with a host, without credentials
//! (`https://gov.cn@evil.example/` goes to `evil.example`), and without whitespace, control
//! characters, bidi controls or other invisible characters — neither as typed nor
//! percent-encoded (`https://example.org/%E2%80%AEgnp.exe` displays as "…exe.png" once a
//! client decodes it). An accepted link is stored as the `url` crate (WHATWG URL) serialises
//! it: `HTTPS://EXAMPLE.ORG/x` becomes `https://example.org/x`.

use percent_encoding::percent_decode_str;
use url::Url;

use crate::text::{code_point, is_invisible};
use crate::{Error, Result};

/// Longest evidence URL, in bytes (as sent, and as stored).
pub const MAX_URL_LEN: usize = 2048;

/// Checks one evidence link for input `field` and returns it as stored: the WHATWG
/// serialisation (lower-case scheme and host, an IDN host in Punycode, `/` for an empty path,
/// the default port dropped).
pub fn evidence_url(url: &str, field: &str) -> Result<String> {
    let bad = |why: String| Error::validation(field, why);
    let parsed = parse_url(url, field, MAX_URL_LEN)?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("not an http or https URL".into()));
    }
    check_authority(url, &parsed, field)?;
    let stored = parsed.as_str();
    let decoded = percent_decode_str(stored).decode_utf8_lossy();
    if let Some(c) = decoded.chars().find(|&c| c.is_control() || is_invisible(c)) {
        return Err(bad(format!("URL contains a percent-encoded control or invisible character ({})", code_point(c))));
    }
    if stored.len() > MAX_URL_LEN {
        return Err(bad(format!("URL longer than {MAX_URL_LEN} bytes once normalised")));
    }
    Ok(stored.to_owned())
}

/// Parses a URL typed into input `field`, at most `max_len` bytes, refusing whitespace,
/// control and invisible characters as typed (evidence links and webhook endpoints alike).
pub(crate) fn parse_url(url: &str, field: &str, max_len: usize) -> Result<Url> {
    let bad = |why: String| Error::validation(field, why);
    if url.len() > max_len {
        return Err(bad(format!("URL longer than {max_len} bytes")));
    }
    if let Some(c) = url.chars().find(|&c| c.is_whitespace() || c.is_control() || is_invisible(c)) {
        return Err(bad(format!("URL contains whitespace, a control or an invisible character ({})", code_point(c))));
    }
    Url::parse(url).map_err(|e| bad(format!("not a URL ({e})")))
}

/// Refuses a parsed URL (typed as `url` into input `field`) without a host, or with a user
/// name or password — an empty one as typed (`https://@host/`) included.
pub(crate) fn check_authority(url: &str, parsed: &Url, field: &str) -> Result<()> {
    let bad = |why: &str| Error::validation(field, why);
    if parsed.host().is_none() {
        return Err(bad("URL has no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() || has_empty_userinfo(url) {
        return Err(bad("URL must not carry a user name or password (text before an `@` in the host part)"));
    }
    Ok(())
}

/// Whether the authority as typed has an `@` (an empty user name the parser drops, as in
/// `https://@host/`). The authority ends at the first `/`, `\`, `?` or `#` after the scheme's
/// slashes, as the WHATWG parser reads it for http(s).
fn has_empty_userinfo(url: &str) -> bool {
    let Some((_, rest)) = url.split_once(':') else { return false };
    let rest = rest.trim_start_matches(['/', '\\']);
    rest.split(['/', '\\', '?', '#']).next().is_some_and(|authority| authority.contains('@'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(url: &str) -> bool {
        matches!(evidence_url(url, "evidenceUrls[0]"), Err(Error::Validation { field, .. }) if field == "evidenceUrls[0]")
    }

    #[test]
    fn valid_links_are_stored_normalised() {
        for (sent, stored) in [
            ("https://example.org/a.pdf", "https://example.org/a.pdf"),
            ("HTTPS://EXAMPLE.ORG/x", "https://example.org/x"),
            ("Http://Example.org", "http://example.org/"),
            ("http://a.org:8080/x?y#z", "http://a.org:8080/x?y#z"),
            ("https://a.org:443/x", "https://a.org/x"),
            ("https://例え.jp/資料.pdf", "https://xn--r8jz45g.jp/%E8%B3%87%E6%96%99.pdf"),
            ("https://[::1]:8443/x", "https://[::1]:8443/x"),
            ("https://a.org/my%20report.pdf", "https://a.org/my%20report.pdf"),
            ("https://a.org/?q=%E4%B8%AD", "https://a.org/?q=%E4%B8%AD"),
        ] {
            assert_eq!(evidence_url(sent, "f").ok().as_deref(), Some(stored), "{sent}: {:?}", evidence_url(sent, "f"));
        }
    }

    #[test]
    fn dangerous_or_malformed_links_are_refused() {
        for url in [
            "ftp://a.org/x",
            "javascript:alert(1)",
            "mailto:a@b.org",
            "data:text/html,x",
            "https://",
            "/relative",
            "a.org/x",
            "https://a.org/x y",
            "https://a.org/x\ty",
            " https://a.org/x",
            "https://a.org:99999/x",
            "https://a.org:x/",
            "https://gov.cn@evil.example/",
            "https://user:pass@a.org/",
            "https://:pass@a.org/",
            "https://@a.org/",
            "https://example.org/\u{202E}gnp.exe",
            "https://example.org/%E2%80%AEgnp.exe",
            "https://example.org/%e2%80%ae",
            "https://exa\u{200B}mple.org/",
            "https://example.org/\u{2066}x",
            "https://example.org/%E2%81%A6x",
            "https://example.org/\u{FEFF}",
            "https://example.org/%EF%BB%BF",
            "https://example.org/%E2%80%8B",
            "https://example.org/\u{1B}[2J",
            "https://example.org/%1B%5B2J",
            "https://example.org/%00",
            "https://example.org/%C2%85",
            "https://example.org/\u{85}",
        ] {
            assert!(refused(url), "{url:?} should be refused: {:?}", evidence_url(url, "evidenceUrls[0]"));
        }
        assert!(refused(&format!("https://a.org/{}", "x".repeat(2100))));
        // Short enough as sent, too long once every character is percent-encoded.
        assert!(refused(&format!("https://a.org/{}", "中".repeat(600))));
    }

    #[test]
    fn errors_name_a_character_by_its_code_point() {
        let Err(Error::Validation { message, .. }) = evidence_url("https://e.org/\u{202E}x", "f") else {
            panic!("refused")
        };
        assert!(message.contains("U+202E") && !message.contains('\u{202E}'), "{message}");
    }
}
