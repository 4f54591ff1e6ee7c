//! `server.listen` as people write it: `127.0.0.1:8080`, `0.0.0.0:8080`, `[::1]:8080`.
//!
//! Use on a `SocketAddr` field with `#[serde(with = "listen_addr")]`; it only improves the
//! message for a bad address, which would otherwise be "invalid socket address syntax".

use std::fmt;
use std::net::SocketAddr;

use serde::{Deserializer, Serializer, de};

pub(crate) fn serialize<S: Serializer>(
    addr: &SocketAddr,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(addr)
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<SocketAddr, D::Error> {
    deserializer.deserialize_str(ListenAddr)
}

struct ListenAddr;

impl de::Visitor<'_> for ListenAddr {
    type Value = SocketAddr;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an address such as \"127.0.0.1:8080\"")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<SocketAddr, E> {
        text.trim().parse().map_err(|_| {
            E::custom(format!(
                "invalid address `{text}`: expected IP:PORT such as 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080"
            ))
        })
    }
}
