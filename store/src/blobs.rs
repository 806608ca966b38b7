//! Where attachments live: outside the database, behind a small interface.
//! The local disk is the default; an object store can implement the same trait.

use std::fmt::Debug;
use std::path::PathBuf;

use futures_util::future::BoxFuture;

/// A store of immutable blobs under keys the platform chooses (never a client).
pub trait BlobStore: Send + Sync + Debug {
    /// Stores `bytes` under `key`, replacing nothing: a key is written once.
    fn put<'a>(&'a self, key: &'a str, bytes: &'a [u8]) -> BoxFuture<'a, std::io::Result<()>>;
    /// Reads the bytes stored under `key`.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, std::io::Result<Vec<u8>>>;
    /// Removes the blob under `key`; removing a missing key is not an error.
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, std::io::Result<()>>;
}

/// Blobs as files under a root directory; a write goes to a temporary file
/// first and is renamed into place, so a reader never sees half a file.
#[derive(Debug, Clone)]
pub struct LocalDisk {
    root: PathBuf,
}

impl LocalDisk {
    /// A store rooted at the directory `root` (created on the first write).
    pub fn new(root: impl Into<PathBuf>) -> LocalDisk {
        LocalDisk { root: root.into() }
    }

    /// Keys are `[0-9a-f-/]` only, so they cannot leave the root.
    fn path(&self, key: &str) -> std::io::Result<PathBuf> {
        let safe = !key.is_empty()
            && !key.starts_with('/')
            && key
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b'-' || b == b'/')
            && !key.split('/').any(str::is_empty);
        if safe {
            Ok(self.root.join(key))
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "blob keys are ids separated by /",
            ))
        }
    }
}

impl BlobStore for LocalDisk {
    fn put<'a>(&'a self, key: &'a str, bytes: &'a [u8]) -> BoxFuture<'a, std::io::Result<()>> {
        Box::pin(async move {
            let path = self.path(key)?;
            if let Some(dir) = path.parent() {
                tokio::fs::create_dir_all(dir).await?;
            }
            let tmp = path.with_extension("partial");
            tokio::fs::write(&tmp, bytes).await?;
            tokio::fs::rename(&tmp, &path).await
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, std::io::Result<Vec<u8>>> {
        Box::pin(async move { tokio::fs::read(self.path(key)?).await })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, std::io::Result<()>> {
        Box::pin(async move {
            match tokio::fs::remove_file(self.path(key)?).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trip_and_keys_stay_inside_the_root() {
        let root = std::env::temp_dir().join(format!("onegrid-blobs-{}", uuid::Uuid::new_v4()));
        let disk = LocalDisk::new(&root);
        disk.put("ab-12/cd", b"photo").await.unwrap();
        assert_eq!(disk.get("ab-12/cd").await.unwrap(), b"photo");
        assert!(!root.join("ab-12/cd.partial").exists());
        for bad in ["../x", "/etc/passwd", "a//b", "", "a/../b", "a b"] {
            assert!(disk.put(bad, b"x").await.is_err(), "{bad}");
        }
        disk.delete("ab-12/cd").await.unwrap();
        disk.delete("ab-12/cd").await.unwrap();
        assert!(disk.get("ab-12/cd").await.is_err());
        std::fs::remove_dir_all(root).unwrap();
    }
}
