//! The built-in catalog: the `com.atproto.*` and `app.bsky.*` lexicons vendored under
//! `lexicons/` (see `lexicons/README.md` for their origin and licence).
//!
//! Owns building that catalog once, lazily, from files compiled into the library. It does
//! no file or network I/O at run time and never panics: a vendored file that fails to
//! load is left out and reported by [`builtin_errors`] (a test keeps that list empty).

#[path = "builtin_files.rs"]
mod files;

use super::{Catalog, LexiconError};
use std::sync::OnceLock;

struct Loaded {
    catalog: Catalog,
    errors: Vec<(&'static str, LexiconError)>,
}

fn loaded() -> &'static Loaded {
    static LOADED: OnceLock<Loaded> = OnceLock::new();
    LOADED.get_or_init(|| {
        let mut catalog = Catalog::new();
        let mut errors = Vec::new();
        for (path, text) in files::FILES {
            if let Err(e) = catalog.add_json(text) {
                errors.push((*path, e));
            }
        }
        Loaded { catalog, errors }
    })
}

/// The vendored lexicons, parsed once on first use.
pub fn builtin() -> &'static Catalog {
    &loaded().catalog
}

/// Vendored files that failed to load into [`builtin()`], with why. Empty in a correct
/// build.
pub fn builtin_errors() -> &'static [(&'static str, LexiconError)] {
    &loaded().errors
}

/// The embedded files: `(path under lexicons/, JSON text)`, sorted by path.
pub fn builtin_files() -> &'static [(&'static str, &'static str)] {
    files::FILES
}
