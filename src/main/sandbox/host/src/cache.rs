//! On-disk cache of compiled modules (Wasmtime's serialized form), in the directory the app gives.
//!
//! `Module::deserialize` trusts its input (it maps native code), so we only ever deserialize files
//! that we wrote: a file is `MAGIC`, then HMAC-SHA256(secret, key || 0 || payload), then the payload.
//! The secret is per cache directory (created by the app, mode 0600, passed in the run request), so a
//! file copied from another machine, a truncated write or a corrupted file fails the check and is
//! recompiled (and overwritten). Writes go to a unique temporary name and are renamed into place, so
//! concurrent writers of the same key are safe. The app evicts the oldest files beyond the size cap.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::io::Write;
use std::path::PathBuf;

const MAGIC: &[u8; 8] = b"MXCWASM1";

pub struct Cache {
    pub dir: PathBuf,
    pub secret: Vec<u8>,
}

fn mac(secret: &[u8], key: &str, payload: &[u8]) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("hmac accepts any key length");
    m.update(key.as_bytes());
    m.update(&[0]);
    m.update(payload);
    m.finalize().into_bytes().into()
}

pub enum Lookup {
    Hit(Vec<u8>),
    Miss,
    /// a file exists under the key but failed verification (it is not used)
    Rejected,
}

impl Cache {
    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.cwasm"))
    }

    pub fn load(&self, key: &str) -> Lookup {
        let path = self.path(key);
        let Ok(bytes) = std::fs::read(&path) else { return Lookup::Miss };
        if bytes.len() < 40 || &bytes[..8] != MAGIC {
            return Lookup::Rejected;
        }
        let (tag, payload) = bytes[8..].split_at(32);
        let want = mac(&self.secret, key, payload);
        // constant-time comparison
        let mut diff = 0u8;
        for (a, b) in tag.iter().zip(want.iter()) {
            diff |= a ^ b;
        }
        if diff != 0 {
            return Lookup::Rejected;
        }
        // mark as recently used (eviction is oldest-first by mtime)
        if let Ok(f) = std::fs::File::open(&path) {
            let _ = f.set_modified(std::time::SystemTime::now());
        }
        Lookup::Hit(payload.to_vec())
    }

    pub fn store(&self, key: &str, payload: &[u8]) -> std::io::Result<()> {
        // one job (so at most one writer) per process: pid + time make the name unique
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let tmp = self.dir.join(format!(".{key}.{}.{nanos}.tmp", std::process::id()));
        let result = (|| {
            let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
            f.write_all(MAGIC)?;
            f.write_all(&mac(&self.secret, key, payload))?;
            f.write_all(payload)?;
            drop(f);
            std::fs::rename(&tmp, self.path(key))
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}
