//! The local API's keys (the token key pair, the blob URLs' signing key), kept on disk so tokens
//! and URLs issued before a restart stay valid after it. Only the local API keeps keys in a file (Lambda functions read theirs from the environment
//! or SSM), so the file handling lives here, not in the domain.

use std::io::{self, Write};
use std::path::Path;

use itinera::auth::{KeyError, PrivateKey, PrivateKeyPem};

/// The file under the local data directory that keeps the dev signing key across restarts.
pub const DEV_KEY_FILE: &str = "dev-jwt-key.pem";

/// The file under the local data directory that keeps the blob URLs' signing key.
pub const BLOB_KEY_FILE: &str = "dev-blob-key";

/// Why the dev key pair could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum DevKeyError {
    #[error("reading or writing the dev key file {path}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("the dev key file {path} {source}; delete it to get a new key pair")]
    Corrupt {
        path: String,
        #[source]
        source: KeyError,
    },
    #[error("the blob key file {path} holds no 64 hex digits; delete it to get a new key")]
    CorruptBlobKey { path: String },
    #[error("generating the dev key pair")]
    Generate(#[source] KeyError),
}

/// The local API's key pair: read from `<data_dir>/dev-jwt-key.pem`, or generated and written
/// there (owner read/write only) on first use, so tokens issued before a restart stay valid
/// after it. Concurrent first starts agree on one key: the file appears atomically and only the
/// first writer's key is kept. Returns the private key as PEM and the public key as PEM.
pub fn dev_keys(data_dir: &Path) -> Result<(PrivateKeyPem, String), DevKeyError> {
    let key = kept_key(
        data_dir,
        DEV_KEY_FILE,
        |path, pem| {
            PrivateKey::from_pem(pem).map_err(|source| DevKeyError::Corrupt {
                path: path.to_owned(),
                source,
            })
        },
        || {
            let generated = PrivateKey::generate().map_err(DevKeyError::Generate)?;
            Ok(generated.to_pem().expose_secret().to_owned())
        },
    )?;
    Ok((key.to_pem(), key.public_key().to_pem()))
}

/// The key the embedded blob store signs its URLs with: 32 random bytes, kept hex-encoded in
/// `<data_dir>/dev-blob-key` as [`dev_keys`] keeps the token key pair, so URLs handed out before
/// a restart still work after it.
pub fn blob_signing_key(data_dir: &Path) -> Result<Vec<u8>, DevKeyError> {
    kept_key(
        data_dir,
        BLOB_KEY_FILE,
        |path, text| {
            let text = text.trim();
            let bytes: Option<Vec<u8>> = (text.len() == 64)
                .then(|| {
                    (0..64)
                        .step_by(2)
                        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
                        .collect()
                })
                .flatten();
            bytes.ok_or_else(|| DevKeyError::CorruptBlobKey {
                path: path.to_owned(),
            })
        },
        || {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).map_err(|error| DevKeyError::Io {
                path: BLOB_KEY_FILE.to_owned(),
                source: io::Error::other(error.to_string()),
            })?;
            Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
        },
    )
}

/// The key kept in `<data_dir>/<name>`: read and `parse`d, or `generate`d and published there
/// (owner read/write only) on first use. Concurrent first starts agree on one key: the file
/// appears atomically and only the first writer's key is kept.
fn kept_key<T>(
    data_dir: &Path,
    name: &str,
    parse: impl Fn(&str, &str) -> Result<T, DevKeyError>,
    generate: impl Fn() -> Result<String, DevKeyError>,
) -> Result<T, DevKeyError> {
    let path = data_dir.join(name);
    let shown = path.display().to_string();
    let io_error = |source| DevKeyError::Io {
        path: shown.clone(),
        source,
    };
    loop {
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                restrict_permissions(&path).map_err(io_error)?;
                return parse(&shown, &text);
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir).map_err(io_error)?;
                let generated = generate()?;
                match publish_once(&path, &generated) {
                    Ok(()) => return parse(&shown, &generated),
                    // Another process wrote its key first: read that one.
                    Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
                    Err(error) => return Err(io_error(error)),
                }
            }
            Err(error) => return Err(io_error(error)),
        }
    }
}

/// Writes `contents` to a private temporary file, then links it to `path`, which fails with
/// `AlreadyExists` instead of replacing a file another process published first. A crash
/// leaves at most a stray temporary file, never a half-written key at `path`.
fn publish_once(path: &Path, contents: &str) -> io::Result<()> {
    let temporary = path.with_file_name(format!(
        "{}.{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&temporary).and_then(|mut file| {
        file.write_all(contents.as_bytes())?;
        file.sync_all()
    });
    let published = written.and_then(|()| std::fs::hard_link(&temporary, path));
    // The temporary name is ours alone; it goes whether or not publishing worked.
    let _ = std::fs::remove_file(&temporary);
    published
}

/// Tightens a key file someone loosened (a copy, a checkout) back to owner-only.
#[cfg(unix)]
fn restrict_permissions(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let permissions = std::fs::metadata(path)?.permissions();
    if permissions.mode() & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict_permissions(_path: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use itinera::auth::PublicKey;

    use super::*;

    #[test]
    fn the_dev_key_pair_is_generated_once_and_kept() {
        let dir = std::env::temp_dir().join(format!("itinera-dev-keys-{}", uuid::Uuid::new_v4()));
        let (private, public) = dev_keys(&dir).unwrap();
        let (again_private, again_public) = dev_keys(&dir).unwrap();
        assert_eq!(private, again_private);
        assert_eq!(public, again_public);
        let derived = PrivateKey::from_pem(private.expose_secret())
            .unwrap()
            .public_key();
        assert_eq!(derived, PublicKey::from_pem(&public).unwrap());
        let file = dir.join(DEV_KEY_FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from(DEV_KEY_FILE)]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_blob_signing_key_is_generated_once_kept_private_and_corruption_is_reported() {
        let dir = std::env::temp_dir().join(format!("itinera-dev-keys-{}", uuid::Uuid::new_v4()));
        let key = blob_signing_key(&dir).unwrap();
        assert_eq!(key.len(), 32);
        assert_eq!(blob_signing_key(&dir).unwrap(), key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(BLOB_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.join(BLOB_KEY_FILE), "not hex").unwrap();
        assert!(matches!(
            blob_signing_key(&dir),
            Err(DevKeyError::CorruptBlobKey { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_corrupt_dev_key_file_is_reported_not_replaced() {
        let dir = std::env::temp_dir().join(format!("itinera-dev-keys-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(DEV_KEY_FILE), "half a key").unwrap();
        assert!(matches!(dev_keys(&dir), Err(DevKeyError::Corrupt { .. })));
        assert_eq!(
            std::fs::read_to_string(dir.join(DEV_KEY_FILE)).unwrap(),
            "half a key"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
