//! Blob bytes, content-addressed, through `object_store` (a local folder by default; the
//! same code serves an S3-compatible store).
//!
//! Uploads stream into `tmp/<random>` while being hashed and counted, are refused as
//! soon as they pass the size limit, and are then renamed to `blocks/<cid>`, so a blob
//! is either complete under its CID or absent. Metadata (who owns which blob, its media
//! type) lives in the database, not here.

use bytes::Bytes;
use cid::Cid;
use futures::{Stream, StreamExt};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Why a blob operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("blob not found")]
    NotFound,
    #[error("blob store: {0}")]
    Store(String),
    #[error("upload interrupted: {0}")]
    Body(String),
}

impl From<object_store::Error> for BlobError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => BlobError::NotFound,
            other => BlobError::Store(other.to_string()),
        }
    }
}

/// What an upload produced.
#[derive(Debug, Clone)]
pub struct Stored {
    pub cid: Cid,
    pub size: u64,
    /// The first bytes, for sniffing the media type when the client did not say.
    pub head: Vec<u8>,
}

/// The blob store.
#[derive(Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlobStore({})", self.store)
    }
}

fn blob_path(cid: &Cid) -> ObjPath {
    ObjPath::from(format!("blocks/{cid}"))
}

impl BlobStore {
    /// A blob store in a local folder (created if missing).
    pub fn local(dir: &std::path::Path) -> Result<Self, BlobError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| BlobError::Store(format!("{}: {e}", dir.display())))?;
        let fs = LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| BlobError::Store(e.to_string()))?
            .with_automatic_cleanup(true);
        Ok(BlobStore {
            store: Arc::new(fs),
        })
    }

    /// Stream `body` into the store, refusing it past `limit` bytes; returns its raw CID.
    pub async fn put_stream<S, E>(&self, mut body: S, limit: u64) -> Result<Stored, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let tmp = ObjPath::from(format!("tmp/{}", crate::auth::jwt::random_id()));
        let upload = self.store.put_multipart(&tmp).await?;
        let mut writer = WriteMultipart::new(upload);
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut head = Vec::new();
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(BlobError::Body(e.to_string()));
                }
            };
            size += chunk.len() as u64;
            if size > limit {
                let _ = writer.abort().await;
                return Err(BlobError::TooLarge { limit });
            }
            if head.len() < 512 {
                let take = (512 - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            hasher.update(&chunk);
            writer.write(&chunk);
        }
        writer.finish().await?;
        let digest = hasher.finalize();
        let mh = multihash::Multihash::<64>::wrap(pds::data::cid::SHA2_256, digest.as_slice())
            .map_err(|e| BlobError::Store(e.to_string()))?;
        let cid = Cid::new_v1(pds::data::cid::RAW, mh);
        self.store.rename(&tmp, &blob_path(&cid)).await?;
        Ok(Stored { cid, size, head })
    }

    /// Whether the blob is present.
    #[cfg(test)]
    pub async fn has(&self, cid: &Cid) -> Result<bool, BlobError> {
        match self.store.head(&blob_path(cid)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The blob's bytes as a stream, with its size.
    pub async fn get_stream(
        &self,
        cid: &Cid,
    ) -> Result<
        (
            u64,
            impl Stream<Item = Result<Bytes, BlobError>> + Send + use<>,
        ),
        BlobError,
    > {
        let res = self.store.get(&blob_path(cid)).await?;
        let size = res.meta.size;
        Ok((size, res.into_stream().map(|r| r.map_err(BlobError::from))))
    }

    /// The whole blob in memory (a blob is at most a tier's blob size; the restore
    /// stream writes one block at a time).
    pub async fn get_bytes(&self, cid: &Cid) -> Result<Bytes, BlobError> {
        Ok(self.store.get(&blob_path(cid)).await?.bytes().await?)
    }

    /// Remove a blob (when no account references it any more).
    pub async fn delete(&self, cid: &Cid) -> Result<(), BlobError> {
        match self.store.delete(&blob_path(cid)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// Guess a media type from the first bytes, for uploads without a useful Content-Type.
pub fn sniff_mime(head: &[u8]) -> Option<&'static str> {
    let starts = |p: &[u8]| head.starts_with(p);
    if starts(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if starts(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some("image/gif")
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some("image/webp")
    } else if head.len() >= 12 && &head[4..8] == b"ftyp" {
        Some("video/mp4")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn upload_is_content_addressed_and_limited() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = BlobStore::local(dir.path()).expect("store");
        let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(Bytes::from_static(b"hello ")),
            Ok(Bytes::from_static(b"world")),
        ];
        let stored = store
            .put_stream(futures::stream::iter(chunks), 1024)
            .await
            .expect("put");
        assert_eq!(stored.cid, pds::data::cid::for_raw(b"hello world"));
        assert_eq!(stored.size, 11);
        assert_eq!(
            store.get_bytes(&stored.cid).await.expect("get").as_ref(),
            b"hello world"
        );
        let big: Vec<Result<Bytes, std::io::Error>> = vec![Ok(Bytes::from(vec![0u8; 2048]))];
        let err = store
            .put_stream(futures::stream::iter(big), 1024)
            .await
            .expect_err("too large");
        assert!(matches!(err, BlobError::TooLarge { limit: 1024 }));
        assert!(
            !store
                .has(&pds::data::cid::for_raw(&[0u8; 2048]))
                .await
                .expect("has")
        );
    }

    #[test]
    fn sniffs_common_images() {
        assert_eq!(sniff_mime(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(sniff_mime(b"plain"), None);
    }
}
