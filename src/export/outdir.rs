//! The output directory is written whole or not at all: files go to a hidden staging folder
//! beside it, which is renamed into place at the end. A crash leaves the staging folder (or
//! nothing), never half a result under the final name; a user's existing results are only
//! replaced with `--force`, and only once the new ones are complete.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Why the output directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum OutDirError {
    /// The directory has files and `--force` was not given (a usage error, exit 2).
    #[error(
        "output directory `{0}` is not empty\n    fix: choose another with --out, or pass --force to replace it"
    )]
    NotEmpty(PathBuf),
    /// The path exists and is not a directory (exit 2).
    #[error("output path `{0}` exists and is not a directory\n    fix: choose another with --out")]
    NotADirectory(PathBuf),
    /// The output directory cannot be created there: a file in the way, no permission, or
    /// a path with no name of its own such as `.` (a usage error, exit 2).
    #[error("cannot create the output directory `{path}`\n    fix: choose another with --out")]
    Unusable {
        /// Where.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// The file system refused while writing results (exit 1).
    #[error("cannot write output under `{path}`")]
    Io {
        /// Where.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> OutDirError + '_ {
    move |source| OutDirError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Checks that `dir` may receive results, before any work is done.
pub fn check(dir: &Path, force: bool) -> Result<(), OutDirError> {
    if dir.file_name().is_none() {
        let source = io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path has no directory name of its own",
        );
        return Err(OutDirError::Unusable {
            path: dir.to_path_buf(),
            source,
        });
    }
    match fs::metadata(dir) {
        Err(_) => Ok(()),
        Ok(m) if !m.is_dir() => Err(OutDirError::NotADirectory(dir.to_path_buf())),
        Ok(_) => {
            let empty = fs::read_dir(dir).map_err(io_err(dir))?.next().is_none();
            if empty || force {
                Ok(())
            } else {
                Err(OutDirError::NotEmpty(dir.to_path_buf()))
            }
        }
    }
}

/// A staging folder that becomes the output directory on [`Staging::commit`], and is
/// removed if dropped before.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    staging: PathBuf,
    force: bool,
    committed: bool,
}

impl Staging {
    /// Checks `dir` (see [`check`]) and creates the staging folder beside it (and `dir`'s
    /// parents), so that an unusable path is reported before any work is done.
    pub fn new(dir: &Path, force: bool) -> Result<Self, OutDirError> {
        check(dir, force)?;
        let unusable = |source| OutDirError::Unusable {
            path: dir.to_path_buf(),
            source,
        };
        let parent = dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::create_dir_all(parent).map_err(unusable)?;
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let staging = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(unusable)?;
        }
        fs::create_dir(&staging).map_err(unusable)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            staging,
            force,
            committed: false,
        })
    }

    /// Where to write files now.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Moves the finished results into place, replacing an old directory (checked by
    /// [`check`]) only after the new one is complete.
    pub fn commit(mut self) -> Result<PathBuf, OutDirError> {
        // Something may have appeared there while the run was going (another run, say).
        check(&self.dir, self.force)?;
        let old = self.dir.with_file_name(format!(
            ".{}.old-{}",
            self.dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            std::process::id()
        ));
        let had_old = self.dir.exists();
        if had_old {
            fs::rename(&self.dir, &old).map_err(io_err(&self.dir))?;
        }
        if let Err(e) = fs::rename(&self.staging, &self.dir) {
            if had_old {
                let _ = fs::rename(&old, &self.dir);
            }
            return Err(OutDirError::Io {
                path: self.dir.clone(),
                source: e,
            });
        }
        self.committed = true;
        if had_old {
            fs::remove_dir_all(&old).map_err(io_err(&old))?;
        }
        Ok(self.dir.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_non_empty_directory_unless_forced() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("out");
        assert!(check(&dir, false).is_ok(), "a missing directory is fine");
        fs::create_dir(&dir).expect("mkdir");
        assert!(check(&dir, false).is_ok(), "an empty directory is fine");
        fs::write(dir.join("keep.txt"), "mine").expect("write");
        assert!(matches!(check(&dir, false), Err(OutDirError::NotEmpty(_))));
        assert!(check(&dir, true).is_ok());
        fs::write(tmp.path().join("file"), "x").expect("write");
        assert!(matches!(
            check(&tmp.path().join("file"), true),
            Err(OutDirError::NotADirectory(_))
        ));
    }

    #[test]
    fn a_directory_filled_during_the_run_is_not_replaced_without_force() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("out");
        let s = Staging::new(&dir, false).expect("staging");
        fs::create_dir(&dir).expect("mkdir");
        fs::write(dir.join("theirs.json"), "x").expect("write");
        assert!(matches!(s.commit(), Err(OutDirError::NotEmpty(_))));
        assert!(dir.join("theirs.json").exists());
        assert_eq!(
            fs::read_dir(tmp.path()).expect("ls").count(),
            1,
            "the staging folder is gone"
        );
    }

    #[test]
    fn unusable_paths_are_refused_before_any_work() {
        let tmp = tempfile::tempdir().expect("tempdir");
        fs::write(tmp.path().join("afile"), "x").expect("write");
        assert!(matches!(
            Staging::new(&tmp.path().join("afile").join("sub"), false),
            Err(OutDirError::Unusable { .. })
        ));
        assert!(matches!(
            Staging::new(Path::new("."), true),
            Err(OutDirError::Unusable { .. })
        ));
        assert!(matches!(
            Staging::new(Path::new("/"), true),
            Err(OutDirError::Unusable { .. })
        ));
    }

    #[test]
    fn commit_replaces_whole_and_drop_leaves_nothing() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("a").join("out");
        let s = Staging::new(&dir, false).expect("staging");
        fs::write(s.path().join("x.json"), "1").expect("write");
        assert!(!dir.exists(), "nothing appears before commit");
        s.commit().expect("commit");
        assert_eq!(fs::read_to_string(dir.join("x.json")).expect("read"), "1");

        let s = Staging::new(&dir, true).expect("staging");
        fs::write(s.path().join("y.json"), "2").expect("write");
        s.commit().expect("commit");
        assert!(!dir.join("x.json").exists() && dir.join("y.json").exists());

        let s = Staging::new(&dir, true).expect("staging");
        let staged = s.path().to_path_buf();
        drop(s);
        assert!(!staged.exists());
        assert!(
            dir.join("y.json").exists(),
            "a dropped staging folder does not touch results"
        );
        let leftovers: Vec<_> = fs::read_dir(dir.parent().expect("parent"))
            .expect("ls")
            .collect();
        assert_eq!(leftovers.len(), 1, "only the output directory remains");
    }
}
