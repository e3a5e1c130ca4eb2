//! Lenient readers of fields straight from the JSON (serde visitors): the same leniency as the
//! [`lenient`](crate::lenient) functions, without an intermediate `serde_json::Value`, for the
//! hot parsing paths.
//!
//! Each is a newtype implementing `Deserialize`, so a hand-written `visit_map` can read a
//! field with `map.next_value::<Text>()?.0`. [`lenient_struct!`](crate::lenient_struct)
//! writes such a `visit_map` for a whole struct.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::{LenientDate, Money};

/// What a JSON scalar was, without allocating for numbers and booleans.
enum Scalar<'de> {
    Str(std::borrow::Cow<'de, str>),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
    /// `null`, or an object or array (drained and ignored).
    Other,
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(v.into()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(v.to_owned().into()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(v.into()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::I64(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::U64(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::F64(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Other)
    }
    fn visit_none<E: de::Error>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Other)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar<'de>, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
}

fn scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Scalar<'de>, D::Error> {
    d.deserialize_any(ScalarVisitor)
}

fn number_text(s: &Scalar<'_>) -> Option<String> {
    match s {
        Scalar::I64(v) => Some(v.to_string()),
        Scalar::U64(v) => Some(v.to_string()),
        Scalar::F64(v) => {
            Some(serde_json::Number::from_f64(*v).map_or_else(|| v.to_string(), |n| n.to_string()))
        }
        _ => None,
    }
}

/// Text: strings as they are (blank is `None`), numbers and booleans as text.
#[derive(Debug, Default)]
pub struct Text(pub Option<String>);

impl<'de> serde::Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = scalar(d)?;
        Ok(Self(match s {
            Scalar::Str(v) if v.trim().is_empty() => None,
            Scalar::Str(v) => Some(v.into_owned()),
            Scalar::Bool(b) => Some(b.to_string()),
            other => number_text(&other),
        }))
    }
}

/// An integer from a number, a numeric string or a whole float.
#[derive(Debug, Default)]
pub struct Int(pub Option<i64>);

impl<'de> serde::Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self(match scalar(d)? {
            Scalar::I64(v) => Some(v),
            Scalar::U64(v) => i64::try_from(v).ok(),
            Scalar::F64(v) if v.fract() == 0.0 && v.abs() < 9e15 => Some(v as i64),
            Scalar::Str(s) => s.trim().parse().ok(),
            Scalar::Bool(b) => Some(i64::from(b)),
            _ => None,
        }))
    }
}

/// Money from a number or a decorated string.
#[derive(Debug, Default)]
pub struct MoneyField(pub Option<Money>);

impl<'de> serde::Deserialize<'de> for MoneyField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = scalar(d)?;
        Ok(Self(match &s {
            Scalar::Str(v) => Money::parse(v).ok(),
            other => number_text(other).and_then(|t| Money::parse(&t).ok()),
        }))
    }
}

/// A `0`/`1`/`"1"`/`true` flag.
#[derive(Debug, Default)]
pub struct Flag(pub Option<bool>);

impl<'de> serde::Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self(match scalar(d)? {
            Scalar::Bool(b) => Some(b),
            Scalar::I64(v) => Some(v != 0),
            Scalar::U64(v) => Some(v != 0),
            Scalar::F64(v) => Some(v != 0.0),
            Scalar::Str(s) => s.trim().parse::<i64>().ok().map(|v| v != 0),
            Scalar::Other => None,
        }))
    }
}

/// Words of a text (a court's `"site1 site2"`): the text split at white space; `null` or
/// blank is none.
#[derive(Debug, Default)]
pub struct Words(pub Vec<String>);

impl<'de> serde::Deserialize<'de> for Words {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Text(t) = Text::deserialize(d)?;
        Ok(Self(
            t.map(|s| s.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
        ))
    }
}

/// A date in `dd.mm.yyyy` or `YYYY-MM-DD`, the raw text kept otherwise.
#[derive(Debug, Default)]
pub struct DateField(pub Option<LenientDate>);

impl<'de> serde::Deserialize<'de> for DateField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Text(t) = Text::deserialize(d)?;
        Ok(Self(t.map(|s| LenientDate::parse(&s))))
    }
}

/// A list of `T` from a list, one item, or `null`; items that do not read as `T` are skipped.
#[derive(Debug)]
pub struct Many<T>(pub Vec<T>);

impl<T> Default for Many<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

/// One list item: an object read as `T`, anything else drained and skipped.
struct Item<T>(Option<T>);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Item<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: serde::Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Item<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list item")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Item<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|t| Item(Some(t)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Item<T>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Item(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Item<T>, E> {
                Ok(Item(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Item<T>, E> {
                Ok(Item(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Item<T>, E> {
                Ok(Item(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Item<T>, E> {
                Ok(Item(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Item<T>, E> {
                Ok(Item(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Item<T>, E> {
                Ok(Item(None))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Many<T> {
    /// Streams: a list of items, one object, or `null`. Items that are not objects are
    /// skipped; an object whose fields do not read as `T` fails the whole answer (for
    /// [`lenient_struct!`](crate::lenient_struct) types, whose fields all read leniently, only
    /// broken JSON does).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: serde::Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Many<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list, an object or null")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Many<T>, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
                while let Some(Item(item)) = seq.next_element::<Item<T>>()? {
                    out.extend(item);
                }
                Ok(Many(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Many<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|t| Many(vec![t]))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Many<T>, E> {
                Ok(Many(Vec::new()))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Many<T>, E> {
                Ok(Many(Vec::new()))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Many<T>, E> {
                Ok(Many(Vec::new()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Many<T>, E> {
                Ok(Many(Vec::new()))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Many<T>, E> {
                Ok(Many(Vec::new()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Many<T>, E> {
                Ok(Many(Vec::new()))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A nested object read as `T`; any other JSON value is `None` (drained, never an error).
#[derive(Debug)]
pub struct Object<T>(pub Option<T>);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Item::<T>::deserialize(d).map(|Item(t)| Self(t))
    }
}

/// `null` as `None`, anything else read as `T` (for enums that read any text themselves).
#[derive(Debug)]
pub struct Opt<T>(pub Option<T>);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Opt<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(d).map(Self)
    }
}

/// Declares a struct of lenient fields, each field written once: its type, its JSON key
/// (`= "key"`, left out where the key is the field's name; `= "key" | "other"` for a field
/// sent under either, an `Option` of which the first key present wins) and its reader newtype
/// (`.0` taken). The struct gets an `extra` field that keeps every key it
/// does not name (serialised flat, as it came), and `Deserialize`: it starts from `Default`,
/// and anything but an object is an error (callers treat it as garbage). Fields after a `;`
/// are not read from the JSON (proverka's own, filled in after parsing). The struct must
/// derive `Default` and `Serialize`.
///
/// ```
/// use proverka_core::Money;
/// use proverka_core::lenient::fields::{Int, MoneyField};
///
/// proverka_core::lenient_struct! {
///     /// What a query cost.
///     #[derive(Debug, Default, serde::Serialize)]
///     pub struct Inquiry {
///         /// The price.
///         pub price: Option<Money> => MoneyField,
///         /// The speed, under another key.
///         pub speed: Option<i64> = "speedSec" => Int;
///         /// Not in the JSON: proverka's own.
///         pub checked: bool,
///     }
/// }
///
/// let i: Inquiry = serde_json::from_str(r#"{"price":" 1.40 руб.","speedSec":"3","new":1}"#)?;
/// assert_eq!((i.price, i.speed), (Some(Money::from_kopecks(140)), Some(3)));
/// assert!(i.extra.contains_key("new") && !i.checked);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[macro_export]
macro_rules! lenient_struct {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $fvis:vis $field:ident : $fty:ty $(= $wire:literal $(| $alias:literal)*)? => $reader:ty
            ),* $(,)?
            $(;
                $(
                    $(#[$dmeta:meta])*
                    $dvis:vis $dfield:ident : $dty:ty
                ),* $(,)?
            )?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $($(#[$fmeta])* $fvis $field: $fty,)*
            $($($(#[$dmeta])* $dvis $dfield: $dty,)*)?
            /// Fields not named above.
            #[serde(flatten)]
            pub extra: $crate::lenient::Extra,
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                struct V;
                impl<'de> ::serde::de::Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("an object (", stringify!($name), ")"))
                    }
                    fn visit_map<A: ::serde::de::MapAccess<'de>>(self, mut map: A) -> ::std::result::Result<$name, A::Error> {
                        let mut out = <$name as ::std::default::Default>::default();
                        while let Some(key) = map.next_key::<::std::borrow::Cow<'de, str>>()? {
                            match key.as_ref() {
                                $(
                                    $crate::lenient_struct!(@key $field $($wire $(| $alias)*)?)
                                        if $crate::lenient_struct!(@unset out.$field $($(, $alias)*)?) =>
                                    {
                                        out.$field = map.next_value::<$reader>()?.0;
                                    }
                                )*
                                _ => {
                                    let value = map.next_value::<::serde_json::Value>()?;
                                    out.extra.insert(key.into_owned(), value);
                                }
                            }
                        }
                        Ok(out)
                    }
                }
                d.deserialize_map(V)
            }
        }
    };
    (@key $field:ident $wire:literal $(| $alias:literal)*) => { $wire $(| $alias)* };
    (@key $field:ident) => { stringify!($field) };
    (@unset $place:expr) => { true };
    (@unset $place:expr, $($alias:literal),+) => { $place.is_none() };
}
