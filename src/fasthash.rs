//! A small, fast hash for maps whose keys come from the configuration (provider prefixes, model
//! groups, deployment ids) and are looked up on every call. FNV-1a: a few instructions a byte
//! against SipHash's setup and finalisation, which dominate for keys of a few bytes.
//!
//! Not for maps whose keys a caller or a vendor chooses at run time (a crafted set of keys
//! could collide); those keep the standard `HashMap`. A lookup of any string in a map built
//! from configuration is fine: the table does not grow with what is looked up.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a, 64 bits.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// A `HashMap` with [`Fnv`], for configuration-keyed maps read on the hot path.
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors_and_map_use() {
        // FNV-1a 64 of "" and "a" (the published test vectors).
        assert_eq!(Fnv::default().finish(), 0xcbf2_9ce4_8422_2325);
        let mut h = Fnv::default();
        h.write(b"a");
        assert_eq!(h.finish(), 0xaf63_dc4c_8601_ec8c);
        let mut m: FastMap<String, u32> = FastMap::default();
        for (i, k) in ["openai", "groq", "anthropic", ""].iter().enumerate() {
            m.insert(k.to_string(), i as u32);
        }
        assert_eq!(m.get("groq"), Some(&1));
        assert_eq!(m.get(""), Some(&3));
        assert_eq!(m.get("nope"), None);
    }
}
