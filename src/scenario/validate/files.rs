//! The files a scenario names, read before any value is checked: its calibration profiles
//! and a token price CSV, each relative to the scenario's folder. Checks then work on text.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::economics::price::PricePathSpec;
use crate::scenario::raw::RawScenario;

/// What each named file holds, or why it could not be read.
pub(super) struct Files {
    dir: PathBuf,
    /// By the path as the scenario writes it: the text, or what the system said.
    texts: BTreeMap<String, Result<String, String>>,
}

impl Files {
    /// Reads every file `raw` names, relative to `dir`.
    pub(super) fn read(raw: &RawScenario, dir: &Path) -> Self {
        let csv = raw.token.as_ref().and_then(|t| match &t.price {
            PricePathSpec::Csv { path } => Some(path),
            _ => None,
        });
        let texts = raw
            .calibration
            .profiles
            .values()
            .chain(csv)
            .map(|file| {
                let text = std::fs::read_to_string(dir.join(file)).map_err(|e| e.to_string());
                (file.clone(), text)
            })
            .collect();
        Self {
            dir: dir.to_path_buf(),
            texts,
        }
    }

    /// The text of `file` (as the scenario writes it), or what the system said.
    pub(super) fn text(&self, file: &str) -> Result<String, String> {
        self.texts
            .get(file)
            .cloned()
            .unwrap_or_else(|| Err(format!("{file} was not read")))
    }

    /// How messages name `file`: joined to the scenario's folder.
    pub(super) fn shown(&self, file: &str) -> String {
        self.dir.join(file).display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_file_is_read_relative_to_the_scenario() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("p.csv"), "0,1\n").expect("write");
        let raw: RawScenario = serde_saphyr::from_str(
            "regions: []
providers: []
inference: {users: []}
calibration: {profiles: {h100_sxm: gone.yaml}}
token:
  emission: {schedule: {constant: {per_epoch: 1}}, epoch_h: 1}
  price: {csv: {path: p.csv}}
  work_share: 1
",
        )
        .expect("raw");
        let files = Files::read(&raw, dir.path());
        assert_eq!(files.text("p.csv"), Ok("0,1\n".to_string()));
        assert!(files.text("gone.yaml").is_err_and(|why| !why.is_empty()));
        assert_eq!(
            files.shown("gone.yaml"),
            dir.path().join("gone.yaml").display().to_string()
        );
        assert!(
            files.text("other.csv").is_err(),
            "only named files are read"
        );
    }
}
