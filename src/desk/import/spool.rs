//! A temporary spool file between the passes of an import, encrypted under a key that
//! exists only in this process's memory: the file outlives neither the import nor the
//! key, and its bytes are unreadable on disk while it exists.
//!
//! Records are length-prefixed XChaCha20-Poly1305 blobs whose associated data binds their
//! position, so they cannot be reordered, dropped from the middle or replayed. Also here:
//! a compact binary form of a sealed account row (`NewAccount`: ciphertexts and keyed
//! hashes only) for the second spool.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read as _, Write as _};
use std::path::PathBuf;

use crate::crypto::{Aad, DataKey};
use crate::domain::account::{AccountFlags, AccountId, AccountKind, ContactId};
use crate::store::{IndexKindTag, NewAccount, NewContact};

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

// --- A sealed account row, as bytes -------------------------------------------------------

struct Enc(Vec<u8>);

impl Enc {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn len(&mut self, n: usize) {
        self.0
            .extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.0.extend_from_slice(b);
    }
    fn opt(&mut self, b: Option<&Vec<u8>>) {
        match b {
            Some(b) => {
                self.u8(1);
                self.bytes(b);
            }
            None => self.u8(0),
        }
    }
}

struct Dec<'a> {
    buf: &'a [u8],
}

fn damaged() -> DeskError {
    DeskError::Internal("the import's temporary file is damaged".into())
}

impl Dec<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        if self.buf.len() < n {
            return Err(damaged());
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn i64(&mut self) -> Result<i64> {
        let b: [u8; 8] = self.take(8)?.try_into().map_err(|_| damaged())?;
        Ok(i64::from_le_bytes(b))
    }
    fn len(&mut self) -> Result<usize> {
        let b: [u8; 4] = self.take(4)?.try_into().map_err(|_| damaged())?;
        Ok(u32::from_le_bytes(b) as usize)
    }
    fn bytes(&mut self) -> Result<Vec<u8>> {
        let n = self.len()?;
        Ok(self.take(n)?.to_vec())
    }
    fn opt(&mut self) -> Result<Option<Vec<u8>>> {
        match self.u8()? {
            0 => Ok(None),
            _ => Ok(Some(self.bytes()?)),
        }
    }
}

const TAGS: [IndexKindTag; 6] = [
    IndexKindTag::Email,
    IndexKindTag::Phone,
    IndexKindTag::TaxId,
    IndexKindTag::ExternalId,
    IndexKindTag::ContactEmail,
    IndexKindTag::ContactPhone,
];

/// Encodes a sealed account (`replace`: for `Mutation::ReplaceAccount`). Login history and
/// sessions are not part of an import.
pub fn encode_account(a: &NewAccount, replace: bool) -> Vec<u8> {
    let mut e = Enc(Vec::with_capacity(1024));
    e.u8(u8::from(replace));
    e.i64(a.id.0);
    e.u8(u8::from(a.kind == AccountKind::LegalEntity));
    e.u8(u8::from(a.flags.locked) | (u8::from(a.flags.blocked) << 1));
    for f in [&a.name, &a.email, &a.phone, &a.postal_address, &a.tax_id] {
        e.opt(f.as_ref());
    }
    e.len(a.indexes.len());
    for (tag, hash) in &a.indexes {
        e.u8(u8::try_from(TAGS.iter().position(|t| t == tag).unwrap_or(0)).unwrap_or(0));
        e.bytes(hash);
    }
    e.len(a.tokens.len());
    for t in &a.tokens {
        e.bytes(t.as_bytes());
    }
    e.len(a.admin_logins.len());
    for (id, ct) in &a.admin_logins {
        e.i64(*id);
        e.bytes(ct);
    }
    e.len(a.contacts.len());
    for c in &a.contacts {
        e.i64(c.id.0);
        for f in [&c.name, &c.email, &c.phone, &c.passphrase] {
            e.opt(f.as_ref());
        }
        e.u8(u8::from(c.has_email) | (u8::from(c.has_phone) << 1));
    }
    e.0
}

/// Decodes what [`encode_account`] wrote: the account and whether it replaces one.
pub fn decode_account(buf: &[u8]) -> Result<(NewAccount, bool)> {
    let mut d = Dec { buf };
    let replace = d.u8()? == 1;
    let id = AccountId(d.i64()?);
    let kind = if d.u8()? == 1 {
        AccountKind::LegalEntity
    } else {
        AccountKind::Individual
    };
    let flags = d.u8()?;
    let (name, email, phone, postal_address, tax_id) =
        (d.opt()?, d.opt()?, d.opt()?, d.opt()?, d.opt()?);
    let mut indexes = vec![];
    for _ in 0..d.len()? {
        let tag = *TAGS.get(usize::from(d.u8()?)).ok_or_else(damaged)?;
        indexes.push((tag, d.bytes()?));
    }
    let mut tokens = vec![];
    for _ in 0..d.len()? {
        tokens.push(String::from_utf8(d.bytes()?).map_err(|_| damaged())?);
    }
    let mut admin_logins = vec![];
    for _ in 0..d.len()? {
        admin_logins.push((d.i64()?, d.bytes()?));
    }
    let mut contacts = vec![];
    for _ in 0..d.len()? {
        let cid = ContactId(d.i64()?);
        let (name, email, phone, passphrase) = (d.opt()?, d.opt()?, d.opt()?, d.opt()?);
        let has = d.u8()?;
        contacts.push(NewContact {
            id: cid,
            name,
            email,
            phone,
            passphrase,
            has_email: has & 1 != 0,
            has_phone: has & 2 != 0,
        });
    }
    Ok((
        NewAccount {
            id,
            kind,
            flags: AccountFlags {
                locked: flags & 1 != 0,
                blocked: flags & 2 != 0,
                erased: false,
            },
            name,
            email,
            phone,
            postal_address,
            tax_id,
            indexes,
            tokens,
            admin_logins,
            contacts,
            login_history: vec![],
            sessions: vec![],
        },
        replace,
    ))
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

    #[test]
    fn accounts_round_trip() {
        let a = NewAccount {
            id: AccountId(7),
            kind: AccountKind::LegalEntity,
            flags: AccountFlags::default(),
            name: Some(vec![1, 2, 3]),
            email: None,
            phone: Some(vec![4]),
            postal_address: None,
            tax_id: None,
            indexes: vec![(IndexKindTag::ContactPhone, vec![9; 32])],
            tokens: vec!["abc".into()],
            admin_logins: vec![(3, vec![5, 6])],
            contacts: vec![NewContact {
                id: ContactId(2),
                name: Some(vec![7]),
                email: None,
                phone: Some(vec![8]),
                passphrase: None,
                has_email: false,
                has_phone: true,
            }],
            login_history: vec![],
            sessions: vec![],
        };
        let (b, replace) = decode_account(&encode_account(&a, true)).unwrap();
        assert!(replace);
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert!(decode_account(&[1, 2]).is_err());
    }
}
