//! The journal beside a batch's output (`OUT.journal.jsonl`): one line per answered query,
//! appended and flushed as each answer arrives, so a run that is interrupted (Ctrl-C, a crash,
//! `kill -9`) loses nothing it paid for, and the same command run again resumes.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::outcome::Outcome;

/// One line: the query's identity (its cache key, no personal data) and its outcome.
#[derive(Debug, Serialize, Deserialize)]
struct Line {
    key: String,
    #[serde(flatten)]
    outcome: Outcome,
}

/// An open journal.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    file: File,
}

impl Journal {
    /// The journal of an output file: `OUT.journal.jsonl` beside it.
    pub(crate) fn path_for(out: &Path) -> PathBuf {
        let mut name = out.file_name().unwrap_or_default().to_os_string();
        name.push(".journal.jsonl");
        out.with_file_name(name)
    }

    /// Opens (creating) the journal and reads what earlier runs recorded: the last outcome
    /// per query. A line cut short by a crash is skipped.
    pub(crate) fn open(path: &Path) -> Result<(Self, HashMap<String, Outcome>), String> {
        let mut done = HashMap::new();
        if let Ok(f) = File::open(path) {
            for line in std::io::BufReader::new(f).lines() {
                let Ok(line) = line else { break };
                if let Ok(l) = serde_json::from_str::<Line>(&line) {
                    done.insert(l.key, l.outcome);
                }
            }
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok((
            Self {
                path: path.to_owned(),
                file,
            },
            done,
        ))
    }

    /// Appends one outcome and flushes it to the file before returning.
    pub(crate) fn record(&mut self, key: &str, outcome: &Outcome) -> Result<(), String> {
        let line = serde_json::to_string(&Line {
            key: key.to_owned(),
            outcome: outcome.clone(),
        })
        .map_err(|e| e.to_string())?;
        // One write per line (a crash never interleaves two), then flushed to the OS.
        self.file
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| self.file.flush())
            .map_err(|e| format!("{}: {e}", self.path.display()))
    }
}
