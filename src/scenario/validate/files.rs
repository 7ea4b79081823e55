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
