//! Paper and codes for humans: what lets a user take back their identity.
//!
//! - [`shamir`]: 2-of-3 Shamir shares of the rotation key over GF(256), checked against
//!   the key's public did:key when combined; the `pds-share-v1:` text form for files
//! - [`mnemonic`]: a 32-byte share value as 24 BIP-39 English words, typed-word reading
//!   with errors by position, and word completion
//! - [`sheet`]: a recovery sheet for one share, as plain text and as a printable HTML page
//! - [`transfer`]: six-word transfer codes between devices, the keyed hash the relay
//!   stores, and the QR payload
//! - [`challenge`]: the message a reconstructed rotation key signs to prove itself to a
//!   relay during recovery
//!
//! Nothing here does I/O or knows where a share is kept; the daemon and pdsctl decide.
//! Every secret type redacts itself in Debug, zeroizes on drop, and is shown only through
//! a `reveal_*` method.

pub mod challenge;
pub mod mnemonic;
pub mod shamir;
pub mod sheet;
pub mod transfer;

pub use mnemonic::{MnemonicError, ShareWords, complete};
pub use shamir::{SetId, ShamirError, Share, combine, split};
pub use sheet::RecoverySheet;
pub use transfer::{CodeHash, TransferCode, TransferError, TransferKey, TransferPayload};
