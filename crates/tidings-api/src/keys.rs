//! API key material: generating, hashing and checking keys.
//!
//! A key reads `tdg_<prefix>_<secret>`: the prefix is 8 lowercase hex characters (4 random
//! bytes), public, stored as it is and shown in lists; the secret is 32 random bytes in
//! lowercase base32 (RFC 4648 alphabet, no padding: 52 characters), so the whole key is
//! URL-safe and can be double-clicked as one word. Only the SHA-256 of the whole key is
//! stored. A presented key is found by its prefix and accepted when its hash matches, compared
//! in constant time.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What every key starts with, so that a leaked one is recognisable (and greppable).
const MARKER: &str = "tdg_";
const PREFIX_BYTES: usize = 4;
const PREFIX_LEN: usize = PREFIX_BYTES * 2;
const SECRET_BYTES: usize = 32;
/// 32 bytes are 256 bits, 5 bits a character.
const SECRET_LEN: usize = (SECRET_BYTES * 8).div_ceil(5);
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// A key just made: the token to show once, and what to store.
pub struct NewKey {
    /// The whole key, `tdg_<prefix>_<secret>`: shown once, never stored.
    pub token: String,
    pub prefix: String,
    /// The SHA-256 of `token`.
    pub hash: Vec<u8>,
}

impl fmt::Debug for NewKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewKey")
            .field("token", &"[redacted]")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Makes a new key from the thread's cryptographically secure generator.
pub fn generate() -> NewKey {
    let prefix = hex(&rand::random::<[u8; PREFIX_BYTES]>());
    let secret = base32(&rand::random::<[u8; SECRET_BYTES]>());
    let token = format!("{MARKER}{prefix}_{secret}");
    let hash = sha256(&token);
    NewKey {
        token,
        prefix,
        hash,
    }
}

/// The prefix and the hash of a presented key; `None` for anything not shaped like a key (a
/// stray header, a truncated paste), which can then be refused without a lookup.
pub fn parse(presented: &str) -> Option<(&str, Vec<u8>)> {
    let (prefix, secret) = presented.strip_prefix(MARKER)?.split_once('_')?;
    let prefix_ok = prefix.len() == PREFIX_LEN
        && prefix
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let secret_ok = secret.len() == SECRET_LEN && secret.bytes().all(|b| BASE32.contains(&b));
    (prefix_ok && secret_ok).then(|| (prefix, sha256(presented)))
}

/// Whether a presented key's hash is the stored one, in time that does not depend on where
/// they differ.
pub fn hash_matches(stored: &[u8], presented_hash: &[u8]) -> bool {
    stored.ct_eq(presented_hash).into()
}

/// Whether `presented` is the bootstrap key from `TIDINGS_API_KEY`. Both are hashed first, so
/// the comparison takes the same time whatever their lengths and contents. An empty
/// `env_key` matches nothing.
pub fn env_key_matches(env_key: &str, presented: &str) -> bool {
    !env_key.is_empty() && hash_matches(&sha256(env_key), &sha256(presented))
}

fn sha256(text: &str) -> Vec<u8> {
    Sha256::digest(text.as_bytes()).to_vec()
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0x0f)]])
        .map(char::from)
        .collect()
}

/// RFC 4648 base32, lowercase, without padding.
fn base32(bytes: &[u8]) -> String {
    let mut text = String::with_capacity((bytes.len() * 8).div_ceil(5));
    let mut buffer: u16 = 0;
    let mut bits = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u16::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            text.push(char::from(BASE32[usize::from((buffer >> bits) & 0x1f)]));
        }
    }
    if bits > 0 {
        text.push(char::from(
            BASE32[usize::from((buffer << (5 - bits)) & 0x1f)],
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_has_the_documented_shape() {
        let key = generate();
        let (marker, rest) = key.token.split_at(4);
        assert_eq!(marker, "tdg_");
        let (prefix, secret) = rest.split_once('_').unwrap();
        assert_eq!(prefix, key.prefix);
        assert_eq!(prefix.len(), 8);
        assert!(
            prefix
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_eq!(secret.len(), 52);
        assert!(
            secret
                .chars()
                .all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c)),
            "{secret}"
        );
        assert_eq!(key.token.len(), 65);
        assert_eq!(key.hash.len(), 32);
    }

    #[test]
    fn keys_differ_each_time() {
        let (a, b) = (generate(), generate());
        assert_ne!(a.token, b.token);
        assert_ne!(a.prefix, b.prefix);
        assert_ne!(a.hash, b.hash);
    }

    #[test]
    fn a_generated_key_parses_to_its_prefix_and_hash() {
        let key = generate();
        let (prefix, hash) = parse(&key.token).unwrap();
        assert_eq!(prefix, key.prefix);
        assert_eq!(hash, key.hash);
        assert!(hash_matches(&key.hash, &hash));
    }

    #[test]
    fn the_hash_is_the_sha256_of_the_whole_key() {
        let token = format!("tdg_0123abcd_{}", "a".repeat(52));
        let (prefix, hash) = parse(&token).unwrap();
        assert_eq!(prefix, "0123abcd");
        assert_eq!(hash, Sha256::digest(token.as_bytes()).to_vec());
    }

    #[test]
    fn anything_not_shaped_like_a_key_does_not_parse() {
        let secret = "a".repeat(52);
        let good = format!("tdg_0123abcd_{secret}");
        assert!(parse(&good).is_some());
        for bad in [
            String::new(),
            "tdg_".to_owned(),
            "Bearer tdg_0123abcd_x".to_owned(),
            format!("tdx_0123abcd_{secret}"),
            format!("0123abcd_{secret}"),
            format!("tdg_0123ABCD_{secret}"),
            format!("tdg_0123abc_{secret}"),
            format!("tdg_0123abcde_{secret}"),
            format!("tdg_0123abcg_{secret}"),
            format!("tdg_0123abcd{secret}"),
            format!("tdg_0123abcd_{}", "a".repeat(51)),
            format!("tdg_0123abcd_{}", "a".repeat(53)),
            format!("tdg_0123abcd_{}1", "a".repeat(51)),
            format!("tdg_0123abcd_{}A", "a".repeat(51)),
            format!("tdg_0123abcd_{}_", "a".repeat(51)),
            format!("{good} "),
        ] {
            assert_eq!(parse(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn hashes_match_only_when_equal() {
        let key = generate();
        let other = generate();
        assert!(hash_matches(&key.hash, &key.hash.clone()));
        assert!(!hash_matches(&key.hash, &other.hash));
        assert!(!hash_matches(&key.hash, &key.hash[..31]));
        assert!(!hash_matches(&key.hash, &[]));
    }

    #[test]
    fn the_env_key_matches_only_itself() {
        assert!(env_key_matches("s3cret-bootstrap", "s3cret-bootstrap"));
        assert!(!env_key_matches("s3cret-bootstrap", "s3cret-bootstra"));
        assert!(!env_key_matches("s3cret-bootstrap", "s3cret-bootstrap "));
        assert!(!env_key_matches("s3cret-bootstrap", ""));
        assert!(
            !env_key_matches("", ""),
            "an empty TIDINGS_API_KEY lets no one in"
        );
    }

    #[test]
    fn encodings_follow_their_standards() {
        assert_eq!(hex(&[0x00, 0x7f, 0xa5, 0xff]), "007fa5ff");
        // RFC 4648 section 10 test vectors, lowercased and unpadded.
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "my");
        assert_eq!(base32(b"fo"), "mzxq");
        assert_eq!(base32(b"foo"), "mzxw6");
        assert_eq!(base32(b"foob"), "mzxw6yq");
        assert_eq!(base32(b"fooba"), "mzxw6ytb");
        assert_eq!(base32(b"foobar"), "mzxw6ytboi");
    }

    #[test]
    fn debug_does_not_show_the_token() {
        let key = generate();
        let shown = format!("{key:?}");
        assert!(!shown.contains(&key.token), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
        assert!(shown.contains(&key.prefix), "{shown}");
    }
}
