//! atproto JSON <-> data-model values: `{"$link": cid}` is a link, `{"$bytes": b64}` is
//! bytes, blobs are `{"$type": "blob", "ref": {"$link"}, "mimeType", "size"}`.
//!
//! Owns only the conversion and the data-model rules that JSON can break; it does not
//! validate against lexicons.
