//! A whole database as one stream of bytes: every key and value of the ledger's column families
//! ([`ALL_CFS`], not the access log), as of one snapshot of the engine. A cluster's snapshots are
//! images (docs/replication.md): written to a file, sent in chunks, checked whole, then put in
//! place of the receiving node's database.
//!
//! The format, version 1 (integers big-endian):
//!
//! ```text
//! "EBLI"  u8 version = 1
//! entries: u8 column family (its place in ALL_CFS), u32 key length, key, u32 value length, value
//! u8 0xff  SHA-256 of every byte before this one (32 bytes)
//! ```

use super::engine::Op;
use super::keys::{Meta, ALL_CFS, CF_META};
use super::{Store, StoreError};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};

const MAGIC: &[u8; 4] = b"EBLI";
const VERSION: u8 = 1;
const END: u8 = 0xff;
/// Bytes of entries written per batch while an image is put in place.
const BATCH_BYTES: usize = 4 * 1024 * 1024;

/// Why an image cannot be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading or writing the stream failed.
    #[error("image: {0}")]
    Io(#[from] std::io::Error),
    /// The bytes are not a whole image of this version.
    #[error("not a ledger image: {0}")]
    Format(String),
}

/// A writer that hashes what passes through it.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that hashes what passes through it.
struct Hashed<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Hashed<R> {
    fn exact<const N: usize>(&mut self) -> Result<[u8; N], ImageError> {
        let mut buf = [0u8; N];
        self.bytes(&mut buf)?;
        Ok(buf)
    }

    fn bytes(&mut self, buf: &mut [u8]) -> Result<(), ImageError> {
        self.inner.read_exact(buf).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => ImageError::Format("it ends early".into()),
            _ => ImageError::Io(e),
        })?;
        self.hash.update(&*buf);
        Ok(())
    }

    fn part(&mut self) -> Result<Vec<u8>, ImageError> {
        let len = u32::from_be_bytes(self.exact()?) as usize;
        let mut v = vec![0u8; len];
        self.bytes(&mut v)?;
        Ok(v)
    }
}

/// Reads an image's entries, handing each to `each`, and checks its end and its checksum.
fn read_entries<R: Read>(
    input: R,
    mut each: impl FnMut(&'static str, Vec<u8>, Vec<u8>) -> Result<(), ImageError>,
) -> Result<(), ImageError> {
    let mut r = Hashed { inner: input, hash: Sha256::new() };
    if &r.exact::<4>()? != MAGIC {
        return Err(ImageError::Format("it does not start with \"EBLI\"".into()));
    }
    let [version] = r.exact()?;
    if version != VERSION {
        return Err(ImageError::Format(format!("version {version}; this build reads version {VERSION}")));
    }
    loop {
        let [cf] = r.exact()?;
        if cf == END {
            break;
        }
        let name = *ALL_CFS.get(cf as usize).ok_or_else(|| ImageError::Format(format!("column family {cf}")))?;
        let key = r.part()?;
        let value = r.part()?;
        each(name, key, value)?;
    }
    let expected: [u8; 32] = r.hash.clone().finalize().into();
    let mut found = [0u8; 32];
    r.inner.read_exact(&mut found).map_err(|_| ImageError::Format("its checksum is missing".into()))?;
    if found != expected {
        return Err(ImageError::Format("its checksum does not match its bytes".into()));
    }
    let mut rest = [0u8; 1];
    if r.inner.read(&mut rest)? != 0 {
        return Err(ImageError::Format("bytes after the checksum".into()));
    }
    Ok(())
}

/// Checks that `input` is one whole image, reading it to its end.
pub fn check(input: impl Read) -> Result<(), ImageError> {
    read_entries(input, |_, _, _| Ok(()))
}

impl Store {
    /// Writes the image of the database, as of now, to `out`, and returns the values the meta
    /// keys `watch` had in it (read from the same snapshot as everything written).
    pub fn write_image(&self, out: impl Write, watch: &[Meta]) -> Result<Vec<Option<Vec<u8>>>, ImageError> {
        let mut w = Hashing { inner: std::io::BufWriter::new(out), hash: Sha256::new() };
        w.write_all(MAGIC)?;
        w.write_all(&[VERSION])?;
        let mut seen = vec![None; watch.len()];
        let snapshot = self.engine.snapshot().map_err(StoreError::from)?;
        for (i, cf) in ALL_CFS.iter().enumerate() {
            for item in snapshot.scan(cf, b"", None) {
                let (k, v) = item.map_err(StoreError::from)?;
                if *cf == CF_META {
                    if let Some(at) = watch.iter().position(|m| m.key() == &*k) {
                        seen[at] = Some(v.to_vec());
                    }
                }
                w.write_all(&[i as u8])?;
                for part in [&k, &v] {
                    w.write_all(&(part.len() as u32).to_be_bytes())?;
                    w.write_all(part)?;
                }
            }
        }
        w.write_all(&[END])?;
        let sum: [u8; 32] = w.hash.clone().finalize().into();
        w.inner.write_all(&sum)?;
        w.inner.flush()?;
        Ok(seen)
    }

    /// Puts the image read from `input` in place of the database's data (the access log stays).
    /// The image must already have passed [`check`]; while it is put in place, `meta` holds
    /// [`Meta::RaftInstalling`], so that a crash half-way leaves a database that says so.
    pub fn replace_with_image(&self, input: impl Read) -> Result<(), ImageError> {
        // Whatever happens below, apply's cached states are no longer the store's.
        self.state_cache().clear();
        let result = self.put_image_in_place(input);
        self.state_cache().clear();
        result
    }

    fn put_image_in_place(&self, input: impl Read) -> Result<(), ImageError> {
        let marker = Op::Put { cf: CF_META, key: Meta::RaftInstalling.key().to_vec(), value: vec![1] };
        self.engine.write(vec![marker], true).map_err(StoreError::from)?;
        let mut ops = Vec::new();
        for cf in ALL_CFS {
            for item in self.engine.scan(cf, b"", None) {
                let (k, _) = item.map_err(StoreError::from)?;
                if cf == CF_META && &*k == Meta::RaftInstalling.key() {
                    continue;
                }
                ops.push(Op::Delete { cf, key: k.into_vec() });
                if ops.len() >= 100_000 {
                    self.engine.write(std::mem::take(&mut ops), false).map_err(StoreError::from)?;
                }
            }
        }
        let mut bytes = 0;
        read_entries(input, |cf, key, value| {
            if cf == CF_META && key == Meta::RaftInstalling.key() {
                return Ok(());
            }
            bytes += key.len() + value.len();
            ops.push(Op::Put { cf, key, value });
            if bytes >= BATCH_BYTES {
                self.engine.write(std::mem::take(&mut ops), false).map_err(StoreError::from)?;
                bytes = 0;
            }
            Ok(())
        })?;
        ops.push(Op::Delete { cf: CF_META, key: Meta::RaftInstalling.key().to_vec() });
        self.engine.write(ops, true).map_err(StoreError::from)?;
        Ok(())
    }

    /// Whether the database is half-replaced by an image (a crash while one was put in place).
    pub fn is_half_installed(&self) -> Result<bool, StoreError> {
        Ok(self.meta(Meta::RaftInstalling)?.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Batch;

    fn sample() -> Store {
        let s = Store::memory();
        let mut b = Batch::new();
        b.meta(Meta::Origin, b"test.example/ebl");
        b.meta(Meta::NextSeq, &7u64.to_be_bytes());
        b.put_raw(crate::store::keys::CF_RECORDS, &[0; 8], b"a record");
        s.commit(b).unwrap();
        s
    }

    #[test]
    fn an_image_puts_the_same_database_in_place_of_another() {
        let from = sample();
        let mut bytes = Vec::new();
        let seen = from.write_image(&mut bytes, &[Meta::NextSeq, Meta::LastTime]).unwrap();
        assert_eq!(seen, [Some(7u64.to_be_bytes().to_vec()), None]);
        check(&bytes[..]).unwrap();
        let to = Store::memory();
        let mut b = Batch::new();
        b.meta(Meta::Origin, b"other.example/ebl");
        b.put_raw(crate::store::keys::CF_BILLS, b"stale", b"gone after");
        to.commit(b).unwrap();
        to.replace_with_image(&bytes[..]).unwrap();
        assert_eq!(to.digest().unwrap(), from.digest().unwrap());
        assert!(!to.is_half_installed().unwrap());
    }

    #[test]
    fn a_damaged_or_cut_image_is_refused() {
        let mut bytes = Vec::new();
        sample().write_image(&mut bytes, &[]).unwrap();
        let mut flipped = bytes.clone();
        flipped[10] ^= 1;
        assert!(matches!(check(&flipped[..]), Err(ImageError::Format(_))));
        assert!(matches!(check(&bytes[..bytes.len() - 1]), Err(ImageError::Format(_))));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(check(&longer[..]), Err(ImageError::Format(_))));
    }
}
