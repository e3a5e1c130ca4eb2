//! `<VAR>_FILE`: a setting read from a file named in the environment, so that secrets from
//! systemd credentials (`$CREDENTIALS_DIRECTORY`) or container secrets (`/run/secrets/…`)
//! never sit in the environment themselves. The proxy and the command line read theirs the
//! same way through [`with_files`].

/// Why the environment's `<VAR>_FILE` forms cannot be used. Messages name variables and
/// paths, never a value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvFileError {
    /// Both `<VAR>` and `<VAR>_FILE` are set: which one is meant is not guessed.
    #[error("both {var} and {var}_FILE are set: keep one")]
    BothSet {
        /// The variable.
        var: String,
    },
    /// The file `<VAR>_FILE` names cannot be read.
    #[error("{var}_FILE: cannot read {path}: {source}")]
    Unreadable {
        /// The variable.
        var: String,
        /// The file's path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// `env` with every `<VAR>_FILE` whose `<VAR>` is `known` replaced by `<VAR>` set to the named
/// file's content, one trailing line break dropped (`echo` and editors add one). Giving both
/// forms is an error, as is a file that cannot be read.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("proverka-env-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let file = dir.join("token");
/// std::fs::write(&file, "s3cr3t\n").unwrap();
/// let env = vec![("APP_TOKEN_FILE".to_owned(), file.display().to_string())];
/// let resolved = proverka_core::env_with_files(&env, |v| v.starts_with("APP_")).unwrap();
/// assert!(resolved.contains(&("APP_TOKEN".to_owned(), "s3cr3t".to_owned())));
/// ```
///
/// # Errors
/// [`EnvFileError`].
pub fn with_files(
    env: &[(String, String)],
    known: impl Fn(&str) -> bool,
) -> Result<Vec<(String, String)>, EnvFileError> {
    let mut out: Vec<(String, String)> = env.to_vec();
    for (name, path) in env {
        let Some(var) = name.strip_suffix("_FILE") else {
            continue;
        };
        if !known(var) {
            continue;
        }
        if env.iter().any(|(k, _)| k == var) {
            return Err(EnvFileError::BothSet {
                var: var.to_owned(),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|source| EnvFileError::Unreadable {
            var: var.to_owned(),
            path: path.clone(),
            source,
        })?;
        let value = text
            .strip_suffix("\r\n")
            .or_else(|| text.strip_suffix('\n'))
            .unwrap_or(&text);
        out.push((var.to_owned(), value.to_owned()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_file_form_is_read_and_both_forms_or_an_unreadable_file_are_refused() {
        let dir = std::env::temp_dir().join(format!("proverka-env-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("key");
        std::fs::write(&file, "k3y\r\n").unwrap();
        let path = file.display().to_string();
        let known = |v: &str| v.starts_with("P_");
        let got = with_files(&env(&[("P_KEY_FILE", &path), ("P_OTHER", "x")]), known).unwrap();
        assert!(
            got.contains(&("P_KEY".to_owned(), "k3y".to_owned())),
            "{got:?}"
        );
        // Not known: left as it is.
        let got = with_files(&env(&[("Q_KEY_FILE", &path)]), known).unwrap();
        assert!(got.iter().all(|(k, _)| k != "Q_KEY"));
        let both = with_files(&env(&[("P_KEY_FILE", &path), ("P_KEY", "v4lue")]), known)
            .unwrap_err()
            .to_string();
        assert_eq!(both, "both P_KEY and P_KEY_FILE are set: keep one");
        let missing = dir.join("absent").display().to_string();
        let unreadable = with_files(&env(&[("P_KEY_FILE", &missing)]), known)
            .unwrap_err()
            .to_string();
        assert!(unreadable.starts_with(&format!("P_KEY_FILE: cannot read {missing}")));
    }
}
