//! One file written whole or not at all: the contents go to a temporary file beside the
//! target, which is then renamed over it (a rename within a folder is atomic), so neither a
//! reader nor a crash ever sees half a file under the target's name. An existing file is
//! replaced only when asked.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Why an output file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The file exists and replacing it was not asked for: nothing was written (a usage
    /// error, exit 2).
    #[error("{} exists; give another --out, or --force to replace it", .0.display())]
    Exists(PathBuf),
    /// The folder that would hold the file could not be created (exit 1).
    #[error("creating {}", .path.display())]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// The file system refused the file (exit 1).
    #[error("writing {}", .path.display())]
    Io {
        /// The file (for a run's files, its name in the output directory).
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// The contents could not be encoded as JSON (exit 1).
    #[error("writing {}", .path.display())]
    Json {
        /// The file's name in the output directory.
        path: PathBuf,
        /// What serde_json said.
        source: serde_json::Error,
    },
    /// The time series could not be written as Parquet (exit 1).
    #[error("writing {}", .path.display())]
    Parquet {
        /// The file's name in the output directory.
        path: PathBuf,
        /// What polars said.
        source: polars::error::PolarsError,
    },
}

/// Writes `value` as pretty JSON with a final newline to `path`, as [`write_atomic`] does.
///
/// # Errors
/// What serde_json refused, or as [`write_atomic`].
pub fn write_json_atomic(
    path: &Path,
    value: &impl serde::Serialize,
    replace: bool,
) -> Result<(), WriteError> {
    let text = serde_json::to_string_pretty(value).map_err(|source| WriteError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    write_atomic(path, (text + "\n").as_bytes(), replace)
}

/// Writes `contents` to `path` atomically, creating its folder; refuses an existing file
/// unless `replace`. On failure the temporary file is removed and `path` is as it was.
///
/// # Errors
/// [`WriteError::Exists`] before anything is written, or what the file system refused.
pub fn write_atomic(path: &Path, contents: &[u8], replace: bool) -> Result<(), WriteError> {
    if path.exists() && !replace {
        return Err(WriteError::Exists(path.to_path_buf()));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|source| WriteError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let tmp = partial(path);
    let io = |at: &Path| {
        let path = at.to_path_buf();
        move |source| WriteError::Io { path, source }
    };
    let written = fs::write(&tmp, contents)
        .map_err(io(&tmp))
        .and_then(|()| fs::rename(&tmp, path).map_err(io(path)));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// A file written piece by piece beside its target and renamed over it by
/// [`StreamedFile::finish`]: dropped unfinished, it leaves the target as it was.
#[derive(Debug)]
pub struct StreamedFile {
    target: PathBuf,
    tmp: PathBuf,
    out: Option<io::BufWriter<fs::File>>,
}

impl StreamedFile {
    /// Starts the file that will replace `target` (its folder must exist).
    ///
    /// # Errors
    /// The temporary file cannot be created.
    pub fn create(target: &Path) -> Result<Self, WriteError> {
        let tmp = partial(target);
        let file = fs::File::create(&tmp).map_err(|source| WriteError::Io {
            path: tmp.clone(),
            source,
        })?;
        Ok(Self {
            target: target.to_path_buf(),
            tmp,
            out: Some(io::BufWriter::new(file)),
        })
    }

    /// Appends `bytes`.
    ///
    /// # Errors
    /// What the file system refused.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), WriteError> {
        use io::Write;
        let tmp = &self.tmp;
        match &mut self.out {
            Some(out) => out.write_all(bytes).map_err(|source| WriteError::Io {
                path: tmp.clone(),
                source,
            }),
            None => Ok(()),
        }
    }

    /// Flushes the file and renames it over its target.
    ///
    /// # Errors
    /// What the file system refused; the target is then as it was.
    pub fn finish(mut self) -> Result<(), WriteError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| WriteError::Io { path, source }
        };
        if let Some(out) = self.out.take() {
            out.into_inner()
                .map_err(|e| e.into_error())
                .map_err(io(&self.tmp))?;
        }
        fs::rename(&self.tmp, &self.target).map_err(io(&self.target))
    }
}

impl Drop for StreamedFile {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// The temporary file beside `path`: its name with `.partial` appended.
pub fn partial(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(OsString::from).unwrap_or_default();
    name.push(".partial");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .expect("ls")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn writes_the_whole_file_and_its_folder_and_leaves_no_partial_file() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("a").join("b").join("p.yaml");
        write_atomic(&path, b"class: cpu\n", false).expect("write");
        assert_eq!(fs::read_to_string(&path).expect("read"), "class: cpu\n");
        assert_eq!(names(path.parent().expect("dir")), ["p.yaml"]);
    }

    #[test]
    fn an_existing_file_is_replaced_only_when_asked() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("p.yaml");
        fs::write(&path, "mine").expect("write");
        let e = write_atomic(&path, b"new", false).expect_err("exists");
        assert!(matches!(e, WriteError::Exists(_)));
        assert_eq!(
            e.to_string(),
            format!(
                "{} exists; give another --out, or --force to replace it",
                path.display()
            )
        );
        assert_eq!(fs::read_to_string(&path).expect("read"), "mine");
        write_atomic(&path, b"new", true).expect("replace");
        assert_eq!(fs::read_to_string(&path).expect("read"), "new");
        assert_eq!(names(tmp.path()), ["p.yaml"]);
    }

    #[test]
    fn a_failed_write_leaves_no_partial_file_and_the_target_as_it_was() {
        let tmp = tempfile::tempdir().expect("tempdir");
        // A folder in the way: the contents are written, the rename over it fails.
        let path = tmp.path().join("p.yaml");
        fs::create_dir(&path).expect("mkdir");
        fs::write(path.join("inside"), "x").expect("write");
        let e = write_atomic(&path, b"new", true).expect_err("a folder is in the way");
        assert!(
            matches!(&e, WriteError::Io { path: p, .. } if *p == path),
            "{e:?}"
        );
        assert_eq!(names(tmp.path()), ["p.yaml"]);
        assert_eq!(names(&path), ["inside"]);
        // A file where the folder should be.
        let e = write_atomic(&path.join("inside").join("q.yaml"), b"x", false)
            .expect_err("a file is in the way");
        assert!(matches!(e, WriteError::CreateDir { .. }), "{e:?}");
    }

    #[test]
    fn the_temporary_file_sits_beside_the_target() {
        assert_eq!(
            partial(Path::new("out/h100.yaml")),
            Path::new("out/h100.yaml.partial")
        );
        assert_eq!(partial(Path::new("p")), Path::new("p.partial"));
    }
}
