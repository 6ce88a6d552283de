//! An e-mail address as the desk accepts it: checked once, where it comes in (the API, the
//! help center's contact form, a new agent's account), by the same rule everywhere.

use std::fmt;

/// The longest address accepted, in characters (RFC 5321's limit on a path).
pub const MAX_EMAIL_CHARS: usize = 254;

/// A trimmed address with an `@`, at most [`MAX_EMAIL_CHARS`] characters and no white space.
/// Deliverability is the mail server's to judge; this only keeps obvious mistakes out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Result<Email, &'static str> {
        let t = text.trim();
        let ok = t.contains('@')
            && t.chars().count() <= MAX_EMAIL_CHARS
            && !t.chars().any(char::is_whitespace);
        if ok {
            Ok(Email(t.to_owned()))
        } else {
            Err("is not an e-mail address")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_needs_an_at_sign_no_spaces_and_a_sane_length() {
        assert_eq!(
            Email::parse("  kim@example.org ").map(Email::into_string),
            Ok("kim@example.org".to_owned())
        );
        assert!(Email::parse("kim.example.org").is_err());
        assert!(Email::parse("kim @example.org").is_err());
        assert!(Email::parse(&format!("{}@x.de", "a".repeat(250))).is_err());
    }
}
