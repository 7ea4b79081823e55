//! Calibration profiles as files. The YAML text is [`Profile::to_yaml`], beside the reader
//! it must round-trip with; this writes it whole or not at all.

use std::path::Path;

use super::file::{WriteError, write_atomic};
use crate::calibration::Profile;

/// Writes `profile` to `path` (see [`write_atomic`]); refuses an existing file unless
/// `replace`.
///
/// # Errors
/// [`WriteError::Exists`] before anything is written, or what the file system refused.
pub fn write(profile: &Profile, path: &Path, replace: bool) -> Result<(), WriteError> {
    write_atomic(path, profile.to_yaml().as_bytes(), replace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::gpu::find_class;

    #[test]
    fn a_written_profile_loads_back_and_is_not_overwritten_unasked() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("calibration").join("h100.yaml");
        let p = Profile::datasheet(find_class("h100_sxm").expect("class"));
        write(&p, &path, false).expect("write");
        assert_eq!(Profile::load(&path).expect("load"), p);
        let other = Profile::datasheet(find_class("rtx_4090").expect("class"));
        assert!(matches!(
            write(&other, &path, false),
            Err(WriteError::Exists(_))
        ));
        assert_eq!(Profile::load(&path).expect("load"), p);
        write(&other, &path, true).expect("replace");
        assert_eq!(Profile::load(&path).expect("load"), other);
    }
}
