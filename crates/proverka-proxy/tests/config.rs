//! The configuration as a user writes it: defaults, environment overrides, provider sections
//! from the registry, refusals that name keys and never values.

use proverka_core::Provider;
use proverka_proxy::{Config, ConfigError};

#[test]
fn defaults_and_env_overrides() {
    let c = Config::from_toml("", &[]).unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert!(c.cache.redis_url.is_none());
    let env = vec![
        (
            "PROVERKA_PROVIDERS_FSSP_TOKEN".to_owned(),
            "t0k3n".to_owned(),
        ),
        ("PROVERKA_CACHE_MEMORY_MB".to_owned(), "64".to_owned()),
        (
            "PROVERKA_PROVIDERS_COURT_PRICE_RUB".to_owned(),
            "1.5".to_owned(),
        ),
    ];
    let c = Config::from_toml("[cache]\nmemory_mb = 512\n", &env).unwrap();
    assert_eq!(c.cache.memory_mb, 64);
    assert_eq!(
        c.provider(Provider::Fssp).credential().unwrap().expose(),
        "t0k3n"
    );
    assert_eq!(c.provider(Provider::Court).price().unwrap().kopecks(), 150);
    assert!(!format!("{c:?}").contains("t0k3n"));
}

#[test]
fn clients_from_the_environment() {
    let env = vec![(
        "PROVERKA_CLIENTS".to_owned(),
        r#"[{"name":"crm","key":"crm-secret-key","daily_budget_rub":300}]"#.to_owned(),
    )];
    let c = Config::from_toml("listen = \"0.0.0.0:8080\"\n", &env).unwrap();
    assert_eq!(c.clients[0].name, "crm");
    assert_eq!(c.clients[0].daily_budget_rub, Some(300.0));
    let bad = vec![(
        "PROVERKA_CLIENTS".to_owned(),
        "[{\"key\": \"crm-secret-key\"".to_owned(),
    )];
    let e = Config::from_toml("", &bad).unwrap_err().to_string();
    assert!(!e.contains("crm-secret-key"), "{e}");
}

#[test]
fn an_open_listener_needs_clients() {
    let e = Config::from_toml("listen = \"0.0.0.0:8080\"\n", &[]).unwrap_err();
    assert!(matches!(e, ConfigError::OpenListener(_)));
    let ok = "listen = \"0.0.0.0:8080\"\n[[clients]]\nname = \"crm\"\nkey = \"crm-key-123\"\ndaily_budget_rub = 300\n";
    assert_eq!(Config::from_toml(ok, &[]).unwrap().clients.len(), 1);
    let e = Config::from_toml("[cache]\nencryption_key = \"nothex-secret\"\n", &[]).unwrap_err();
    assert!(!e.to_string().contains("nothex-secret"));
    assert!(Config::from_toml("unknown_key = 1\n", &[]).is_err());
}

#[test]
fn provider_sections_come_from_the_registry() {
    let c = Config::from_toml("[providers.npd]\nprice_rub = 1.5\n", &[]).unwrap();
    assert_eq!(c.provider(Provider::Npd).price().unwrap().kopecks(), 150);
    assert!(c.provider(Provider::Court).price().is_none());
    let e = Config::from_toml("[providers.nosuch]\nprice_rub = 1.5\n", &[]).unwrap_err();
    assert!(e.to_string().contains("[providers.nosuch]"), "{e}");
    assert!(e.to_string().contains("fssp"), "{e}");
    // Every registered provider has its environment variables.
    for p in Provider::ALL {
        let var = format!(
            "PROVERKA_PROVIDERS_{}_TIMEOUT_SECS",
            p.as_str().to_uppercase()
        );
        let c = Config::from_toml("", &[(var, "7".to_owned())]).unwrap();
        assert_eq!(c.provider(p).timeout_secs, Some(7), "{p}");
    }
}

/// A fresh directory for one test's files.
fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("proverka-config-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn secrets_from_files_named_by_file_variables() {
    let d = scratch("files");
    let write = |name: &str, text: &str| {
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    let env = vec![
        (
            "PROVERKA_PROVIDERS_FSSP_TOKEN_FILE".to_owned(),
            write("fssp", "t0k3n-from-a-file\n"),
        ),
        (
            "PROVERKA_CACHE_ENCRYPTION_KEY_FILE".to_owned(),
            write("key", &format!("{key}\r\n")),
        ),
        (
            "PROVERKA_CACHE_REDIS_URL_FILE".to_owned(),
            write("redis", "redis://:pa55@127.0.0.1:6379/0"),
        ),
        (
            "PROVERKA_CLIENTS_FILE".to_owned(),
            write("clients", r#"[{"name":"crm","key":"crm-secret-key"}]"#),
        ),
    ];
    let c = Config::from_toml("", &env).unwrap();
    assert_eq!(
        c.provider(Provider::Fssp).credential().unwrap().expose(),
        "t0k3n-from-a-file",
        "one trailing line break dropped"
    );
    assert_eq!(c.cache.encryption_key.as_ref().unwrap().expose(), key);
    assert_eq!(
        c.cache.redis_url.as_ref().unwrap().expose(),
        "redis://:pa55@127.0.0.1:6379/0"
    );
    assert_eq!(c.clients[0].name, "crm");
    assert!(!format!("{c:?}").contains("t0k3n"));

    // Both forms: refused, naming both variables and no value.
    let both = vec![
        (
            "PROVERKA_PROVIDERS_FSSP_TOKEN".to_owned(),
            "inline-t0k3n".to_owned(),
        ),
        (
            "PROVERKA_PROVIDERS_FSSP_TOKEN_FILE".to_owned(),
            write("fssp2", "file-t0k3n"),
        ),
    ];
    let e = Config::from_toml("", &both).unwrap_err().to_string();
    assert!(e.contains("PROVERKA_PROVIDERS_FSSP_TOKEN_FILE"), "{e}");
    assert!(!e.contains("t0k3n"), "{e}");

    // A file that cannot be read: named by its path.
    let missing = d.join("absent").display().to_string();
    let e = Config::from_toml(
        "",
        &[(
            "PROVERKA_PROVIDERS_NPD_KEY_FILE".to_owned(),
            missing.clone(),
        )],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("PROVERKA_PROVIDERS_NPD_KEY_FILE") && e.contains(&missing),
        "{e}"
    );

    // A `_FILE` name the proxy does not read is left alone.
    assert!(Config::from_toml("", &[("PROVERKA_NOTHING_FILE".to_owned(), missing)]).is_ok());
}

#[test]
fn the_example_configuration_loads() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proverka.example.toml");
    let c = Config::load(Some(&path), &[]).unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.provider(Provider::Npd).price().unwrap().kopecks(), 150);
    assert_eq!(c.provider(Provider::Fns).per_minute, Some(2));
    // With the secrets and clients its comments describe, as a deployment sets them.
    let env = [
        ("PROVERKA_PROVIDERS_FSSP_TOKEN", "fssp-token-0123456789"),
        (
            "PROVERKA_CLIENTS",
            r#"[{"name":"crm","key":"crm-secret-key","daily_budget_rub":300}]"#,
        ),
        ("PROVERKA_LISTEN", "0.0.0.0:8080"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    let c = Config::load(Some(&path), &env).unwrap();
    assert_eq!(c.clients[0].name, "crm");
}

#[test]
fn encryption_keys_for_rotation() {
    let (old, new) = ("11".repeat(32), "22".repeat(32));
    let redis = "[cache]\nredis_url = \"redis://127.0.0.1:6379\"\n";
    // From the environment, comma-separated, the new key first.
    let env = [(
        "PROVERKA_CACHE_ENCRYPTION_KEYS".to_owned(),
        format!("{new},{old}"),
    )];
    let c = Config::from_toml(redis, &env).unwrap();
    let ring = c.cache.keyring().unwrap().unwrap();
    let only_new =
        Config::from_toml(&format!("{redis}encryption_keys = [\"{new}\"]\n"), &[]).unwrap();
    assert_eq!(
        ring.current_key_id(),
        only_new.cache.keyring().unwrap().unwrap().current_key_id(),
        "the first key encrypts"
    );
    assert!(!format!("{c:?}").contains(&new));
    // Refused: both forms, a bad key (named by its place, never shown), the same key twice.
    for (toml, says) in [
        (
            format!("{redis}encryption_key = \"{old}\"\nencryption_keys = [\"{new}\"]\n"),
            "not both",
        ),
        (
            format!("{redis}encryption_keys = [\"{new}\", \"not-a-key\"]\n"),
            "encryption_keys[1]",
        ),
        (
            format!("{redis}encryption_keys = [\"{new}\", \"{new}\"]\n"),
            "twice",
        ),
    ] {
        let e = Config::from_toml(&toml, &[]).unwrap_err().to_string();
        assert!(e.contains(says), "{e}");
        assert!(!e.contains(&new) && !e.contains(&old), "{e}");
    }
}

/// Like `nginx -t`: a wrong value is named by its key and its line, or by the variable that set
/// it; a broken line by its line and column.
#[test]
fn errors_name_the_key_and_the_line_or_the_variable() {
    let text = "listen = \"127.0.0.1:8080\"\n\n[cache]\nmemory_mb = \"lots\"\n";
    let e = Config::from_toml(text, &[]).unwrap_err().to_string();
    assert!(
        e.contains("cache.memory_mb") && e.contains("line 4, column 13"),
        "{e}"
    );
    let env = vec![("PROVERKA_CACHE_MEMORY_MB".to_owned(), "lots".to_owned())];
    let e = Config::from_toml("", &env).unwrap_err().to_string();
    assert!(
        e.contains("cache.memory_mb (from PROVERKA_CACHE_MEMORY_MB)"),
        "{e}"
    );
    let e = Config::from_toml("listen = \n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 1, column 10"), "{e}");
    let e = Config::from_toml("[cache]\nmemroy_mb = 3\n", &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cache.memroy_mb (line 2, column 1") && e.contains("unknown field"),
        "{e}"
    );
}
