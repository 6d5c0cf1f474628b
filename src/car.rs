//! CAR v1.
