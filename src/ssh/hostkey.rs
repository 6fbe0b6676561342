//! The server's host key: loaded from the configured path, or generated there (ed25519,
//! readable by its owner only) on the first start.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use russh::keys::{Algorithm, HashAlg, PrivateKey, ssh_key::LineEnding};

/// The host key and whether it was created now.
pub struct HostKey {
    pub key: PrivateKey,
    pub created: bool,
}

impl HostKey {
    /// `SHA256:…`, as `ssh-keygen -lf` and the OpenSSH client print it.
    pub fn fingerprint(&self) -> String {
        self.key
            .public_key()
            .fingerprint(HashAlg::Sha256)
            .to_string()
    }
}

pub fn load_or_create(path: &Path) -> anyhow::Result<HostKey> {
    if path.exists() {
        check_private(path)?;
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the SSH host key {}", path.display()))?;
        let key = PrivateKey::from_openssh(text.trim_end()).map_err(|e| {
            anyhow::anyhow!(
                "the SSH host key {} is not an unencrypted OpenSSH private key ({e}); \
                 move it away to have a new one generated",
                path.display()
            )
        })?;
        return Ok(HostKey {
            key,
            created: false,
        });
    }
    let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519)
        .map_err(|e| anyhow::anyhow!("cannot generate an SSH host key: {e}"))?;
    let text = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("cannot encode the SSH host key: {e}"))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir)
            .with_context(|| format!("cannot create the directory {}", dir.display()))?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create the SSH host key {}", path.display()))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write the SSH host key {}", path.display()))?;
    Ok(HostKey { key, created: true })
}

/// A host key others may read is refused, as sshd refuses one.
fn check_private(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)
            .with_context(|| format!("cannot read the SSH host key {}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            anyhow::bail!(
                "the SSH host key {} may be read by others (mode {:o}); run `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_private_and_loaded_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/host");
        let first = load_or_create(&path).unwrap();
        assert!(first.created);
        assert!(first.fingerprint().starts_with("SHA256:"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = load_or_create(&path).unwrap();
        assert!(!again.created);
        assert_eq!(again.fingerprint(), first.fingerprint());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let err = load_or_create(&path).err().unwrap().to_string();
            assert!(err.contains("chmod 600"), "{err}");
        }
    }
}
