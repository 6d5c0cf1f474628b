//! The blob reference: `{"$type": "blob", "ref": <cid link>, "mimeType", "size"}`.

use cid::Cid;
use serde::{Deserialize, Serialize};

/// A reference to a blob, as stored inside records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobRef {
    #[serde(rename = "$type")]
    pub r#type: String,
    #[serde(rename = "ref")]
    pub cid: Cid,
    #[serde(rename = "mimeType")]
    pub mime_type: String,
    pub size: u64,
}

impl BlobRef {
    /// A blob reference for content with this CID, media type and size.
    pub fn new(cid: Cid, mime_type: impl Into<String>, size: u64) -> Self {
        BlobRef {
            r#type: "blob".into(),
            cid,
            mime_type: mime_type.into(),
            size,
        }
    }
}
