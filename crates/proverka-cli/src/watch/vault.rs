//! What the store keeps of a watch list's subjects, sealed with the cache's keys and bound to
//! the list and the subject; a subject named by an HMAC of its parameters.

use base64::Engine as _;
use proverka_core::Secret;
use proverka_core::seal::{EncryptionKey, Keyring};
use proverka_core::{Change, RawAnswer};
use proverka_store::{WatchList, WatchSubject};

/// Where a list's settings keep its own client key for a proxy (sealed), and what it is bound to.
const PROXY_KEY: &str = "proxy_key";

/// The keys that seal what the store keeps of a subject: the cache's
/// (`PROVERKA_CACHE_ENCRYPTION_KEYS`, the one that seals first, or `…_KEY`).
///
/// # Errors
/// No key (the store would hold personal data in the clear), or one that is not 64 hex digits.
pub(crate) fn keyring() -> Result<Keyring, String> {
    let texts: Vec<String> = match crate::environment::var("PROVERKA_CACHE_ENCRYPTION_KEYS") {
        Some(list) => list.split(',').map(|k| k.trim().to_owned()).collect(),
        None => crate::environment::var("PROVERKA_CACHE_ENCRYPTION_KEY")
            .into_iter()
            .collect(),
    };
    if texts.is_empty() {
        return Err("watch lists keep personal data, sealed: set PROVERKA_CACHE_ENCRYPTION_KEY (64 hex digits, `openssl rand -hex 32`; the proxy's, to share its keys)".into());
    }
    let keys = texts
        .iter()
        .map(|t| EncryptionKey::from_hex(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("PROVERKA_CACHE_ENCRYPTION_KEY(S): {e}"))?;
    Keyring::new(keys).map_err(|e| format!("PROVERKA_CACHE_ENCRYPTION_KEYS: {e}"))
}

/// Sealing and naming for one list.
pub(super) struct Vault<'a> {
    pub(super) keys: &'a Keyring,
    pub(super) list: &'a str,
}

impl Vault<'_> {
    pub(super) fn aad(&self, subject: &str, run: Option<i64>) -> Vec<u8> {
        let mut aad = format!("proverka-watch\0{}\0{subject}", self.list).into_bytes();
        if let Some(run) = run {
            aad.extend_from_slice(format!("\0{run}").as_bytes());
        }
        aad
    }

    pub(super) fn seal(&self, plaintext: &[u8], subject: &str, run: Option<i64>) -> String {
        base64::engine::general_purpose::STANDARD
            .encode(self.keys.seal(plaintext, &self.aad(subject, run)))
    }

    pub(super) fn open(&self, sealed: &str, subject: &str, run: Option<i64>) -> Option<Vec<u8>> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .ok()?;
        self.keys.open(&bytes, &self.aad(subject, run))
    }

    /// A subject's name: an HMAC of the list and its parameters (no personal data).
    pub(super) fn subject_id(&self, pairs: &[(String, String)]) -> String {
        use hmac::Mac as _;
        let mut mac =
            <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(self.keys.naming_key())
                .expect("HMAC takes a key of any length");
        mac.update(b"proverka-watch-subject\0");
        mac.update(self.list.as_bytes());
        mac.update(b"\0");
        mac.update(serde_json::to_string(pairs).unwrap_or_default().as_bytes());
        hex(&mac.finalize().into_bytes()[..16])
    }

    /// The list's own client key for a proxy (`watch add --proxy-key`), opened.
    ///
    /// # Errors
    /// It is there but sealed under a key no longer configured.
    pub(super) fn proxy_key(&self, list: &WatchList) -> Result<Option<Secret>, String> {
        let options: serde_json::Value = serde_json::from_str(&list.options).unwrap_or_default();
        let Some(sealed) = options[PROXY_KEY].as_str() else {
            return Ok(None);
        };
        self.open(sealed, PROXY_KEY, None)
            .and_then(|b| String::from_utf8(b).ok())
            .map(|k| Some(Secret::new(k)))
            .ok_or_else(|| "its client key cannot be opened (sealed under a key no longer configured): give it again with watch add --proxy-key".to_owned())
    }

    /// The list's settings with its own client key for a proxy, sealed.
    pub(super) fn with_proxy_key(&self, options: &str, key: &str) -> String {
        let mut o: serde_json::Value = serde_json::from_str(options).unwrap_or_default();
        if !o.is_object() {
            o = serde_json::json!({});
        }
        o[PROXY_KEY] = self.seal(key.as_bytes(), PROXY_KEY, None).into();
        o.to_string()
    }

    pub(super) fn pairs(&self, s: &WatchSubject) -> Option<Vec<(String, String)>> {
        serde_json::from_slice(&self.open(&s.sealed, &s.id, None)?).ok()
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A provider's answer as the store keeps it (sealed).
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct KeptAnswer {
    status: u16,
    content_type: Option<String>,
    body: String,
}

impl KeptAnswer {
    pub(super) fn of(raw: &RawAnswer) -> Self {
        Self {
            status: raw.status,
            content_type: raw.content_type.clone(),
            body: base64::engine::general_purpose::STANDARD.encode(&raw.body),
        }
    }

    pub(super) fn raw(self) -> Option<RawAnswer> {
        Some(RawAnswer {
            status: self.status,
            content_type: self.content_type,
            body: base64::engine::general_purpose::STANDARD
                .decode(self.body)
                .ok()?
                .into(),
        })
    }
}

/// A change as the store keeps it (sealed) and a report shows it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct KeptChange {
    pub(crate) what: String,
    pub(crate) item: Option<String>,
    pub(crate) before: Option<String>,
    pub(crate) after: Option<String>,
}

impl From<&Change> for KeptChange {
    fn from(c: &Change) -> Self {
        Self {
            what: c.what.to_string(),
            item: c.item.clone(),
            before: c.before.clone(),
            after: c.after.clone(),
        }
    }
}
