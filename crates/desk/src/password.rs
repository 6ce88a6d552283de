//! What the desk accepts as a password: long enough, not blank, not a trivial pattern and not one
//! of the passwords people choose most often (`password/common.txt`, shipped in the binary). A
//! long password that merely contains a common word (`agent-Passw0rd-Ada`) is fine: length is
//! what counts, and scripts use such passwords.

/// The fewest characters a password may have.
pub const MIN_CHARS: usize = 12;
/// The most bytes a password may have (argon2 takes any length; this keeps requests sane).
pub const MAX_BYTES: usize = 1024;

const COMMON: &str = include_str!("password/common.txt");

fn common(word: &str) -> bool {
    COMMON
        .lines()
        .filter(|l| !l.starts_with('#'))
        .any(|l| l.trim() == word)
}

/// Each character one more (or one less) than the one before: `123456789012`, `abcdefghijkl`.
/// A run of digits wraps from 9 to 0.
fn consecutive(chars: &[char]) -> bool {
    let step = |a: char, b: char| -> Option<i32> {
        if a.is_ascii_digit() && b.is_ascii_digit() {
            let d = (b as i32 - a as i32).rem_euclid(10);
            Some(if d == 9 { -1 } else { d })
        } else if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() {
            Some(b.to_ascii_lowercase() as i32 - a.to_ascii_lowercase() as i32)
        } else {
            None
        }
    };
    let steps: Vec<Option<i32>> = chars.windows(2).map(|w| step(w[0], w[1])).collect();
    matches!(steps.first(), Some(Some(1 | -1))) && steps.iter().all(|s| *s == steps[0])
}

/// Why `password` is refused, in words for people; `Ok` when the desk accepts it.
pub fn check(password: &str) -> Result<(), &'static str> {
    if password.len() > MAX_BYTES {
        return Err("password is longer than 1024 bytes");
    }
    let chars: Vec<char> = password.chars().collect();
    if chars.len() < MIN_CHARS {
        return Err("password must have at least 12 characters");
    }
    if password.trim().is_empty() {
        return Err("password must not be only spaces");
    }
    if chars.iter().all(|&c| c == chars[0]) {
        return Err("password must not repeat one character");
    }
    if consecutive(&chars) {
        return Err("password must not be a run of consecutive digits or letters");
    }
    let lower = password.to_lowercase();
    let stem = lower.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation());
    if common(&lower) || common(stem) {
        return Err("password is one of the most common passwords, or one plus digits");
    }
    // The same short piece over and over: `abcabcabcabc`, `passwordpassword`.
    let n = chars.len();
    if (1..=n / 2).any(|k| n.is_multiple_of(k) && chars.chunks(k).all(|c| c == &chars[..k])) {
        return Err("password must not repeat one short piece");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trivial_and_common_passwords_are_refused_with_the_reason() {
        for (pw, why) in [
            ("short-pw", "at least 12"),
            ("            ", "spaces"),
            ("aaaaaaaaaaaa", "one character"),
            ("123456789012", "consecutive"),
            ("abcdefghijklm", "consecutive"),
            ("987654321098", "consecutive"),
            ("password1234", "common"),
            ("Passwort2024!", "common"),
            ("qwertzuiop12", "common"),
            ("abcabcabcabc", "short piece"),
            ("passwordpassword", "short piece"),
        ] {
            let e = check(pw).expect_err(pw);
            assert!(e.contains(why), "{pw}: {e}");
        }
    }

    #[test]
    fn long_passwords_with_a_common_word_inside_are_fine() {
        for pw in [
            "agent-Passw0rd-Ada",
            "tandem-demo-admin",
            "long-enough-pw",
            "routing-test-pw",
            "correct horse battery staple",
            "Grüne Wiese 2026",
        ] {
            assert_eq!(check(pw), Ok(()), "{pw}");
        }
    }
}
