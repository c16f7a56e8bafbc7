//! Section and subsection numerals as people type them.
//!
//! The plan prints sections as upper-case Roman numerals ("III") and subsections as lower-case
//! ones ("ii"); the Chinese original numbers them "三、" and "（二）". A user may type any of
//! these, or the Arabic number: [`normalise`] turns each into the one form stored (lower-case
//! Roman), which lists compare with the stored numeral ignoring case.

/// The largest numeral accepted: far beyond any plan's sections.
const MAX: u32 = 99;

const ROMAN: [(u32, &str); 9] =
    [(90, "xc"), (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"), (0, "")];

/// Lower-case Roman numeral of `n` (1..=99).
fn roman(mut n: u32) -> String {
    let mut out = String::new();
    for (value, digits) in ROMAN.iter().take_while(|(v, _)| *v > 0) {
        while n >= *value {
            out.push_str(digits);
            n -= value;
        }
    }
    out
}

fn chinese_digit(c: char) -> Option<u32> {
    "〇一二三四五六七八九".chars().position(|d| d == c).and_then(|p| u32::try_from(p).ok())
}

/// "三" → 3, "十二" → 12, "二十" → 20, "二十一" → 21.
fn chinese(s: &str) -> Option<u32> {
    let chars: Vec<char> = s.chars().collect();
    match chars.as_slice() {
        ['十'] => Some(10),
        [d] => chinese_digit(*d),
        ['十', d] => Some(10 + chinese_digit(*d)?),
        [t, '十'] => Some(10 * chinese_digit(*t)?),
        [t, '十', d] => Some(10 * chinese_digit(*t)? + chinese_digit(*d)?),
        _ => None,
    }
}

/// The value of a well-formed Roman numeral (any case): it must be written the canonical way.
fn from_roman(s: &str) -> Option<u32> {
    let lower = s.to_ascii_lowercase();
    (1..=MAX).find(|n| roman(*n) == lower)
}

/// The stored (lower-case Roman) form of a numeral typed as "III", "iii", "3", "三", "三、",
/// "第三", "（三）" or "(3)"; `None` if it is none of these or not in 1..=99.
///
/// ```
/// use workplan_domain::plan::numeral::normalise;
///
/// for typed in ["III", "iii", "3", "三", "（三）", "(iii)", " 三、"] {
///     assert_eq!(normalise(typed).as_deref(), Some("iii"));
/// }
/// assert_eq!(normalise("二十一").as_deref(), Some("xxi"));
/// assert_eq!(normalise("IIII"), None);
/// assert_eq!(normalise("0"), None);
/// ```
pub fn normalise(typed: &str) -> Option<String> {
    let s = typed.trim();
    let s = s.strip_prefix('第').unwrap_or(s);
    let s = s.trim_end_matches(['、', '.', '．', '部', '分', '章']);
    let s = strip_brackets(s).trim();
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    let n = if s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse::<u32>().ok()
    } else if s.is_ascii() {
        from_roman(s)
    } else {
        chinese(s)
    }?;
    (1..=MAX).contains(&n).then(|| roman(n))
}

fn strip_brackets(s: &str) -> &str {
    for (open, close) in [('(', ')'), ('（', '）')] {
        if let Some(inner) = s.strip_prefix(open).and_then(|r| r.strip_suffix(close)) {
            return inner;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_every_numeral_the_plan_uses() {
        let chinese = ["一", "二", "三", "四", "五", "六", "七"];
        let upper = ["I", "II", "III", "IV", "V", "VI", "VII"];
        for (i, (zh, up)) in chinese.iter().zip(upper).enumerate() {
            let want = Some(up.to_lowercase());
            assert_eq!(normalise(up), want);
            assert_eq!(normalise(&up.to_lowercase()), want);
            assert_eq!(normalise(&(i + 1).to_string()), want);
            assert_eq!(normalise(zh), want);
            assert_eq!(normalise(&format!("（{zh}）")), want);
            assert_eq!(normalise(&format!("{zh}、")), want);
        }
        assert_eq!(normalise("十").as_deref(), Some("x"));
        assert_eq!(normalise("十四").as_deref(), Some("xiv"));
        assert_eq!(normalise("四十九").as_deref(), Some("xlix"));
        assert_eq!(normalise("99").as_deref(), Some("xcix"));
    }

    #[test]
    fn nonsense_is_refused() {
        for typed in ["", " ", "0", "100", "-1", "IIII", "VV", "IC", "abc", "十十", "百", "()", "1.5", "〇"] {
            assert_eq!(normalise(typed), None, "{typed:?}");
        }
    }
}
