//! A temporary spool file between the passes of an import, encrypted under a key that
//! exists only in this process's memory: the file outlives neither the import nor the
//! key, and its bytes are unreadable on disk while it exists.
//!
//! Records are length-prefixed XChaCha20-Poly1305 blobs whose associated data binds their
//! position, so they cannot be reordered, dropped from the middle or replayed.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read as _, Write as _};
use std::path::PathBuf;

use crate::crypto::{Aad, DataKey};

use super::super::{DeskError, Result};

/// Records larger than this are refused on reading (a corrupted length).
const MAX_RECORD: u32 = 64 * 1024 * 1024;

fn io(what: &str, e: &std::io::Error) -> DeskError {
    DeskError::Setup(format!(
        "the import's temporary file: cannot {what}: {e}; check the space in the temporary directory (TMPDIR)"
    ))
}

/// A spool being written, then read back once.
pub struct Spool {
    path: PathBuf,
    key: DataKey,
    writer: Option<BufWriter<File>>,
    written: u64,
    label: &'static str,
}

impl Spool {
    /// Creates an empty spool in the temporary directory, readable by its owner only.
    pub fn create(label: &'static str) -> Result<Spool> {
        let dir = std::env::temp_dir();
        let path = dir.join(format!(
            "privdesk-import-{}.spool",
            crate::crypto::random_token(12)
        ));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let file = opts.open(&path).map_err(|e| io("create it", &e))?;
        Ok(Spool {
            path,
            key: DataKey::generate(),
            writer: Some(BufWriter::with_capacity(256 * 1024, file)),
            written: 0,
            label,
        })
    }

    fn aad(&self, seq: u64) -> Aad {
        Aad {
            account_id: 0,
            table: "import_spool",
            column: self.label,
            row_id: i64::try_from(seq).unwrap_or(i64::MAX),
        }
    }

    pub fn len(&self) -> u64 {
        self.written
    }

    pub fn push(&mut self, plain: &[u8]) -> Result<()> {
        let blob = crate::crypto::seal(&self.key, &self.aad(self.written), plain);
        let w = self
            .writer
            .as_mut()
            .ok_or_else(|| DeskError::Internal("spool already read".into()))?;
        let len = u32::try_from(blob.len())
            .map_err(|_| DeskError::Internal("spool record too large".into()))?;
        w.write_all(&len.to_le_bytes())
            .map_err(|e| io("write", &e))?;
        w.write_all(&blob).map_err(|e| io("write", &e))?;
        self.written += 1;
        Ok(())
    }

    /// Finishes writing; returns a reader over the records in order.
    pub fn reader(&mut self) -> Result<SpoolReader<'_>> {
        if let Some(mut w) = self.writer.take() {
            w.flush().map_err(|e| io("write", &e))?;
        }
        let file = File::open(&self.path).map_err(|e| io("read it back", &e))?;
        Ok(SpoolReader {
            spool: self,
            reader: BufReader::with_capacity(256 * 1024, file),
            seq: 0,
        })
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        self.writer = None;
        let _ = std::fs::remove_file(&self.path);
    }
}

pub struct SpoolReader<'a> {
    spool: &'a Spool,
    reader: BufReader<File>,
    seq: u64,
}

impl SpoolReader<'_> {
    /// The next record, decrypted; `None` after the last.
    pub fn next_record(&mut self) -> Result<Option<crate::crypto::Zeroizing<Vec<u8>>>> {
        if self.seq >= self.spool.written {
            return Ok(None);
        }
        let mut len = [0_u8; 4];
        self.reader
            .read_exact(&mut len)
            .map_err(|e| io("read it back", &e))?;
        let len = u32::from_le_bytes(len);
        if len > MAX_RECORD {
            return Err(DeskError::Internal(
                "the import's temporary file is damaged".into(),
            ));
        }
        let mut blob = vec![0_u8; len as usize];
        self.reader
            .read_exact(&mut blob)
            .map_err(|e| io("read it back", &e))?;
        let plain = crate::crypto::open(&self.spool.key, &self.spool.aad(self.seq), &blob)
            .map_err(|_| {
                DeskError::Internal("the import's temporary file was altered while it ran".into())
            })?;
        self.seq += 1;
        Ok(Some(plain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spooled_records_come_back_in_order_and_the_file_is_ciphertext() {
        let mut s = Spool::create("test").unwrap();
        s.push(b"first secret@example.com").unwrap();
        s.push(b"second").unwrap();
        let raw = std::fs::read(&s.path).unwrap_or_default();
        assert!(!raw.windows(6).any(|w| w == b"secret"));
        let path = s.path.clone();
        {
            let mut r = s.reader().unwrap();
            assert_eq!(
                &r.next_record().unwrap().unwrap()[..],
                b"first secret@example.com"
            );
            assert_eq!(&r.next_record().unwrap().unwrap()[..], b"second");
            assert!(r.next_record().unwrap().is_none());
        }
        drop(s);
        assert!(!path.exists());
    }
}
