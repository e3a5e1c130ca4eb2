//! Compression of the shared tier's values: zstd, with a dictionary trained on one provider's
//! answers where its crate ships one ([`ProviderSpec::dictionaries`]), plain zstd otherwise.
//!
//! A provider's answers are small JSON documents of a few fixed shapes: alone, each compresses
//! poorly (there is little to repeat within 2 KB); against a dictionary of the shapes' field
//! names and common values, several times over. The memory tier keeps the bytes as served, so
//! a memory hit never decompresses; only a Redis read does.
//!
//! ```text
//! coded: codec u8 | data
//! codec: 0 stored (compression did not help) | 1 zstd frame | 2 zstd frame with a dictionary
//! ```
//!
//! A frame written with a dictionary names it by the dictionary's own id (zstd's frame
//! header), so an entry written with an older dictionary reads as long as the reader still
//! has it: a retrained dictionary goes first in its provider's list and the older ones stay
//! after it. A frame whose dictionary the reader does not have is a miss, never an error.
//!
//! [`ProviderSpec::dictionaries`]: proverka_core::ProviderSpec::dictionaries

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use proverka_core::Provider;
use zstd::zstd_safe::{self, CCtx, CDict, DCtx, DDict};

const STORED: u8 = 0;
const ZSTD: u8 = 1;
const ZSTD_DICTIONARY: u8 = 2;

/// zstd's default level: on answers of a few kilobytes, tens of microseconds a miss; the higher
/// levels gain a few percent for several times the time (`train-dictionaries` prints both).
const LEVEL: i32 = 3;

/// The largest value a frame may claim to decode to: what the proxy's body limit lets in, with
/// room; a claim above it is a miss rather than an allocation.
const MAX_DECODED: u64 = 64 << 20;

thread_local! {
    /// One context per thread for each direction: creating one costs more than using it.
    static COMPRESSOR: RefCell<CCtx<'static>> = RefCell::new(CCtx::create());
    static DECOMPRESSOR: RefCell<DCtx<'static>> = RefCell::new(DCtx::create());
}

/// One dictionary, prepared for both directions.
struct Prepared {
    compress: CDict<'static>,
    decompress: DDict<'static>,
}

/// A dictionary that cannot be used: what [`Dictionaries::add`] refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DictionaryError {
    /// The bytes are not a zstd dictionary (no magic number, or no id).
    #[error("{provider}: dictionary {index} is not a zstd dictionary with an id")]
    NotADictionary {
        /// Whose list it is in.
        provider: Provider,
        /// Its place in the list (0: the current one).
        index: usize,
    },
    /// Two different dictionaries carry the same id: an entry written with one would be read
    /// with the other.
    #[error("dictionary id {id} is carried by two different dictionaries")]
    DuplicateId {
        /// The id.
        id: u32,
    },
}

/// The dictionaries a cache compresses with: for each provider the current one (used for
/// writing), and every one it was given (read by id). Cheap to clone.
#[derive(Clone, Default)]
pub struct Dictionaries {
    current: HashMap<Provider, u32>,
    by_id: HashMap<u32, (Arc<Prepared>, [u8; 32])>,
}

impl fmt::Debug for Dictionaries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ids: Vec<_> = self.by_id.keys().collect();
        ids.sort_unstable();
        f.debug_struct("Dictionaries")
            .field("current", &self.current)
            .field("readable", &ids)
            .finish()
    }
}

impl Dictionaries {
    /// No dictionaries: every value is plain zstd.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `provider`'s dictionaries, newest first: the first is written with from now on,
    /// every one of them is read. An empty list adds nothing (the provider's answers are
    /// plain zstd).
    ///
    /// # Errors
    /// [`DictionaryError`]: bytes that are not a zstd dictionary, or an id already given to
    /// other bytes.
    pub fn add(
        mut self,
        provider: Provider,
        dictionaries: &[&[u8]],
    ) -> Result<Self, DictionaryError> {
        for (index, bytes) in dictionaries.iter().enumerate() {
            let id = zstd_safe::get_dict_id_from_dict(bytes)
                .ok_or(DictionaryError::NotADictionary { provider, index })?
                .get();
            let digest: [u8; 32] = {
                use sha2::Digest as _;
                sha2::Sha256::digest(bytes).into()
            };
            match self.by_id.get(&id) {
                Some((_, known)) if *known != digest => {
                    return Err(DictionaryError::DuplicateId { id });
                }
                Some(_) => {}
                None => {
                    let compress = CDict::try_create(bytes, LEVEL)
                        .ok_or(DictionaryError::NotADictionary { provider, index })?;
                    let prepared = Prepared {
                        compress,
                        decompress: DDict::create(bytes),
                    };
                    self.by_id.insert(id, (Arc::new(prepared), digest));
                }
            }
            if index == 0 {
                self.current.insert(provider, id);
            }
        }
        Ok(self)
    }

    /// The id of the dictionary `provider`'s values are written with, if it has one.
    pub fn current(&self, provider: Provider) -> Option<u32> {
        self.current.get(&provider).copied()
    }

    /// Compresses a value of `provider`'s: with its dictionary, plain zstd without one, or
    /// stored as it is when compression does not make it smaller.
    pub(crate) fn compress(&self, provider: Provider, value: &[u8]) -> Vec<u8> {
        let dictionary = self.current(provider).and_then(|id| self.by_id.get(&id));
        let mut frame = Vec::with_capacity(zstd_safe::compress_bound(value.len()));
        let written = COMPRESSOR.with(|c| {
            let mut c = c.borrow_mut();
            match dictionary {
                Some((d, _)) => c.compress_using_cdict(&mut frame, value, &d.compress),
                None => c.compress(&mut frame, value, LEVEL),
            }
        });
        let mut out = Vec::with_capacity(frame.len().min(value.len()) + 1);
        match written {
            Ok(_) if frame.len() < value.len() => {
                out.push(if dictionary.is_some() {
                    ZSTD_DICTIONARY
                } else {
                    ZSTD
                });
                out.extend_from_slice(&frame);
            }
            _ => {
                out.push(STORED);
                out.extend_from_slice(value);
            }
        }
        out
    }

    /// Reads what [`Dictionaries::compress`] wrote; `None` for anything that does not decode
    /// (a frame whose dictionary this cache lacks included).
    pub(crate) fn decompress(&self, coded: &[u8]) -> Option<Vec<u8>> {
        let (&codec, frame) = coded.split_first()?;
        let dictionary = match codec {
            STORED => return Some(frame.to_vec()),
            ZSTD => None,
            ZSTD_DICTIONARY => {
                let id = zstd_safe::get_dict_id_from_frame(frame)?.get();
                Some(&self.by_id.get(&id)?.0)
            }
            _ => return None,
        };
        let size = zstd_safe::get_frame_content_size(frame).ok()??;
        if size > MAX_DECODED {
            return None;
        }
        let mut out = Vec::with_capacity(usize::try_from(size).ok()?);
        let written = DECOMPRESSOR.with(|d| {
            let mut d = d.borrow_mut();
            match dictionary {
                Some(p) => d.decompress_using_ddict(&mut out, frame, &p.decompress),
                None => d.decompress(&mut out, frame),
            }
        });
        match written {
            Ok(n) if n as u64 == size => Some(out),
            _ => None,
        }
    }
}
