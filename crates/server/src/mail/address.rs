//! Signed addresses: the `Reply-To` of every mail we send names its conversation and carries an
//! HMAC of it, and so does our `Message-ID`, so that a reply finds its conversation and nobody
//! can post into someone else's by guessing or changing an id.
//!
//! - Reply address: `reply+<conversation>.<tag>@<reply domain>`. A conversation id as the desk
//!   makes them (`c_` and 36 hex digits) is written in base32 (29 characters), so the local part
//!   stays within RFC 5321's 64 octets (62); other ids are written as they are.
//! - Message id: `<m<message>.<conversation>.<tag>@<reply domain>>`.
//!
//! The tag is the first 128 bits of HMAC-SHA256(secret, "conversation:" + id), in lower-case
//! base32 (26 characters).

use desk::ConversationId;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What signs addresses; the same on every node (kept in the store's settings).
#[derive(Clone)]
pub struct Signer {
    secret: Vec<u8>,
    domain: String,
}

/// The local part before the `+` of every reply address: the relay in front of the desk sends
/// `reply+…@<reply domain>` to the inbound listener.
pub const REPLY_LOCAL: &str = "reply";

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
}

const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

impl Signer {
    pub fn new(secret: &[u8], reply_domain: &str) -> Self {
        Self {
            secret: secret.to_vec(),
            domain: reply_domain.to_ascii_lowercase(),
        }
    }

    pub fn domain(&self) -> &str {
        &self.domain
    }

    fn tag(&self, id: &ConversationId) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.secret) else {
            return String::new();
        };
        mac.update(b"conversation:");
        mac.update(id.as_str().as_bytes());
        base32(&mac.finalize().into_bytes()[..16])
    }

    fn verify(&self, id: &str, tag: &str) -> Option<ConversationId> {
        let id = ConversationId::parse(id)?;
        let expected = self.tag(&id);
        // Constant time: no early exit on the first differing byte.
        let same = tag.len() == expected.len()
            && tag
                .bytes()
                .zip(expected.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a.to_ascii_lowercase() ^ b))
                == 0;
        same.then_some(id)
    }

    /// The `Reply-To` address of the conversation's mails.
    pub fn reply_address(&self, id: &ConversationId) -> String {
        format!(
            "{REPLY_LOCAL}+{}.{}@{}",
            compact(id),
            self.tag(id),
            self.domain
        )
    }

    /// The conversation a recipient address names, if it is one of ours and its tag is right.
    pub fn conversation_of_address(&self, address: &str) -> Option<ConversationId> {
        let address = address.trim().trim_start_matches('<').trim_end_matches('>');
        let (local, domain) = address.rsplit_once('@')?;
        if !domain.eq_ignore_ascii_case(&self.domain) {
            return None;
        }
        let (_, signed) = local.split_once('+')?;
        let (id, tag) = signed.rsplit_once('.')?;
        self.verify(&expand(id)?, tag)
    }

    /// Our `Message-ID` for one message of the conversation (without the angle brackets).
    pub fn message_id(&self, id: &ConversationId, message: i64) -> String {
        format!(
            "m{message}.{}.{}@{}",
            id.as_str(),
            self.tag(id),
            self.domain
        )
    }

    /// The conversation one of our message ids names, if its tag is right.
    pub fn conversation_of_message_id(&self, mail_id: &str) -> Option<ConversationId> {
        let mail_id = mail_id.trim().trim_start_matches('<').trim_end_matches('>');
        let (local, domain) = mail_id.rsplit_once('@')?;
        if !domain.eq_ignore_ascii_case(&self.domain) {
            return None;
        }
        let rest = local.strip_prefix('m')?;
        let (_, signed) = rest.split_once('.')?;
        let (id, tag) = signed.rsplit_once('.')?;
        self.verify(id, tag)
    }
}

/// `c_` + 36 hex digits → 29 base32 characters; any other id as it is (it has a `_` or `-`,
/// which base32 never does, so the two cannot be mistaken).
fn compact(id: &ConversationId) -> String {
    let s = id.as_str();
    match s.strip_prefix("c_") {
        Some(hex)
            if hex.len() == 36
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
        {
            let bytes: Vec<u8> = (0..18)
                .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
                .collect();
            base32(&bytes)
        }
        _ => s.to_owned(),
    }
}

/// The id [`compact`] wrote.
fn expand(part: &str) -> Option<String> {
    if part.contains(['_', '-']) {
        return Some(part.to_owned());
    }
    let part = part.to_ascii_lowercase();
    if part.len() != 29 {
        return None;
    }
    let (mut acc, mut bits, mut bytes) = (0u32, 0u32, Vec::with_capacity(18));
    for c in part.bytes() {
        let v = BASE32.iter().position(|&b| b == c)? as u32;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            bytes.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    (bytes.len() == 18).then(|| format!("c_{}", hex::encode(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> Signer {
        Signer::new(b"0123456789abcdef0123456789abcdef", "Shop.Example")
    }

    fn id(s: &str) -> ConversationId {
        ConversationId::parse(s).expect("id")
    }

    #[test]
    fn a_reply_address_names_its_conversation() {
        let s = signer();
        let c = id("c_0190abcdef12a1b2c3d4e5f6a7b8c9d0e1f2");
        let a = s.reply_address(&c);
        assert!(a.starts_with("reply+"));
        assert!(a.ends_with("@shop.example"));
        let local = a.split('@').next().unwrap_or("");
        assert!(local.len() <= 64, "RFC 5321: {} octets", local.len());
        assert_eq!(s.conversation_of_address(&a), Some(c.clone()));
        // A server that changes the case of the address does not lose the thread.
        assert_eq!(
            s.conversation_of_address(&format!("<{}>", a.to_uppercase())),
            Some(c)
        );
        // Ids of another shape are written as they are.
        let short = id("c_x");
        let b = s.reply_address(&short);
        assert!(b.starts_with("reply+c_x."));
        assert_eq!(s.conversation_of_address(&b), Some(short));
    }

    #[test]
    fn forged_and_unsigned_addresses_name_nothing() {
        let s = signer();
        let a = s.reply_address(&id("c_one"));
        // Another conversation with the first one's tag.
        let forged = a.replace("c_one", "c_two");
        assert_eq!(s.conversation_of_address(&forged), None);
        assert_eq!(s.conversation_of_address("reply+c_one@shop.example"), None);
        assert_eq!(s.conversation_of_address("reply@shop.example"), None);
        // The right tag on another domain is not ours.
        assert_eq!(
            s.conversation_of_address(&a.replace("shop.example", "evil.example")),
            None
        );
        // Another secret signs differently.
        let other = Signer::new(b"another secret of 32 bytes......", "shop.example");
        assert_eq!(other.conversation_of_address(&a), None);
        let tag = a
            .split('@')
            .next()
            .and_then(|l| l.rsplit('.').next())
            .unwrap_or("");
        assert_eq!(tag.len(), 26, "128 bits in base32");
    }

    #[test]
    fn message_ids_are_signed_too() {
        let s = signer();
        let c = id("c_abc");
        let m = s.message_id(&c, 42);
        assert_eq!(s.conversation_of_message_id(&format!("<{m}>")), Some(c));
        assert_eq!(
            s.conversation_of_message_id(&m.replace("c_abc", "c_abd")),
            None
        );
        assert_eq!(s.conversation_of_message_id("<CAF=x@mail.gmail.com>"), None);
    }

    #[test]
    fn base32_matches_rfc4648_lower_case() {
        assert_eq!(base32(b"foobar"), "mzxw6ytboi");
        assert_eq!(base32(b""), "");
        let c = id("c_0190abcdef12a1b2c3d4e5f6a7b8c9d0e1f2");
        assert_eq!(expand(&compact(&c)).as_deref(), Some(c.as_str()));
    }
}
