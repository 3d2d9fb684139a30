//! Singer names: what a user may call a singer, and when two names mean the same singer.

use unicode_normalization::UnicodeNormalization;

/// Labels the timelines show when no enrolled singer is named (and the songs files' label for
/// no voice): a singer with one of these names could not be told from the verdict.
const RESERVED: [&str; 3] = ["unknown", "no voice", "instrumental"];
/// Longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// The name as stored (trimmed, Unicode NFC), or why it is refused.
pub fn clean_name(name: &str) -> Result<String, String> {
    let name: String = name.trim().nfc().collect();
    if name.is_empty() {
        return Err("a singer's name cannot be empty".into());
    }
    if name.chars().any(char::is_control) {
        return Err(format!("a singer's name cannot contain control characters (got {name:?})"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!("a singer's name can have at most {MAX_NAME_CHARS} characters"));
    }
    if RESERVED.iter().any(|r| same_name(r, &name)) {
        return Err(format!("'{name}' is what a timeline shows when no enrolled singer sings: choose another name"));
    }
    Ok(name)
}

/// Whether two names mean the same singer: equal after Unicode NFC normalisation and lower
/// casing ("yuki" and "YUKI", "Björk" typed either way).
pub fn same_name(a: &str, b: &str) -> bool {
    key(a) == key(b)
}

fn key(name: &str) -> String {
    name.trim().nfc().flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_normalised_and_checked() {
        assert_eq!(clean_name("  Yuki ").unwrap(), "Yuki");
        assert_eq!(clean_name("Bjo\u{308}rk").unwrap(), "Bj\u{f6}rk", "NFD becomes NFC");
        for bad in ["", "   ", "unknown", "No Voice", "INSTRUMENTAL", "ann\u{7}", "bo\nb"] {
            assert!(clean_name(bad).is_err(), "{bad:?} accepted");
        }
        assert!(clean_name(&"x".repeat(MAX_NAME_CHARS + 1)).is_err());
        assert!(same_name("yuki", "YUKI"));
        assert!(same_name("Bj\u{f6}rk", "bjo\u{308}rk"));
        assert!(!same_name("ann", "anna"));
    }
}
