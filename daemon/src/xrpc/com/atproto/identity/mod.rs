//! com.atproto.identity.*: handles and PLC operations.

pub mod get_recommended_did_credentials;
pub mod request_plc_operation_signature;
pub mod resolve_handle;
pub mod sign_plc_operation;
pub mod submit_plc_operation;
pub mod update_handle;
