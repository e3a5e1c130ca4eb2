//! [`CodeTable`]: a provider's documented error codes, written once per adapter as its page
//! lists them.

use std::mem::discriminant;

/// A provider's documented errors and the code each travels as (a number, a name, a text, or
/// a row of the page's table), in the page's order, declared with
/// [`code_table!`](crate::code_table): the one place an adapter maps its wire
/// codes to its error variants and back.
///
/// Rows are matched by variant, not by payload: a row may hold a variant with an empty
/// payload (`Validation(String::new())`, `{ description: None }`) that the adapter fills in
/// from the answer. Codes the table does not list stay the adapter's `Other`/`Unknown`
/// variant, kept as sent.
///
/// ```
/// use proverka_core::CodeTable;
///
/// #[derive(Debug, Clone, PartialEq)]
/// enum Refusal { BadKey, Limited, Validation(String), Other(String) }
///
/// proverka_core::code_table! {
///     /// The page's codes.
///     const CODES: CodeTable<Refusal, &str> = [
///         ("bad.key", Refusal::BadKey),
///         ("limited", Refusal::Limited),
///         ("validation", Refusal::Validation(String::new())),
///     ];
/// }
///
/// assert_eq!(CODES.error(&"limited"), Some(Refusal::Limited));
/// assert_eq!(CODES.code(&Refusal::Validation("inn".into())), Some(&"validation"));
/// assert_eq!(CODES.code(&Refusal::Other("x".into())), None);
/// ```
#[derive(Debug)]
pub struct CodeTable<E: 'static, C: 'static> {
    rows: &'static [(C, E)],
}

impl<E, C> CodeTable<E, C> {
    /// The table of `rows`: (code, error), in the page's order.
    pub const fn new(rows: &'static [(C, E)]) -> Self {
        Self { rows }
    }

    /// Every row, in the page's order.
    pub fn rows(&self) -> &'static [(C, E)] {
        self.rows
    }

    /// The first row whose code satisfies `is` (a name matched without regard to case, one
    /// number several rows share).
    pub fn find(&self, is: impl Fn(&C) -> bool) -> Option<&'static (C, E)> {
        self.rows.iter().find(|(code, _)| is(code))
    }

    /// The code `error`'s variant travels as, when the table lists it.
    pub fn code(&self, error: &E) -> Option<&'static C> {
        self.rows
            .iter()
            .find(|(_, known)| discriminant(known) == discriminant(error))
            .map(|(code, _)| code)
    }
}

impl<E, C: std::fmt::Display> CodeTable<E, C> {
    /// The code `error`'s variant travels as, as text (empty when the table does not list
    /// it): what an error's message shows, so the code is written once, in its row.
    pub fn code_text(&self, error: &E) -> String {
        self.code(error)
            .map(ToString::to_string)
            .unwrap_or_default()
    }

    /// Every code the table lists, as text, once each, in the page's order (a code several
    /// rows share, once): what a simulator's `provider_error` takes.
    pub fn codes(&self) -> Vec<String> {
        let mut codes: Vec<String> = Vec::new();
        for (code, _) in self.rows {
            let code = code.to_string();
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
        codes
    }
}

impl<E: Clone, C> CodeTable<E, C> {
    /// The error sent as `code` (its payload, if any, empty), when the table lists it.
    pub fn error<Q>(&self, code: &Q) -> Option<E>
    where
        C: PartialEq<Q>,
    {
        self.find(|known| known == code).map(|(_, e)| e.clone())
    }
}

/// Declares a [`CodeTable`] constant: its rows, (code, error), in the page's order. (A macro
/// because a table whose errors carry a payload cannot be built by a `const fn` call.)
#[macro_export]
macro_rules! code_table {
    (
        $(#[$meta:meta])*
        $vis:vis const $name:ident: CodeTable<$error:ty, $code:ty> = [$($row:expr),* $(,)?];
    ) => {
        $(#[$meta])*
        $vis const $name: $crate::CodeTable<$error, $code> = {
            const ROWS: &[($code, $error)] = &[$($row),*];
            $crate::CodeTable::new(ROWS)
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    enum E {
        A,
        B { detail: Option<String> },
        Other(i64),
    }

    const T: CodeTable<E, i64> =
        CodeTable::new(&[(1, E::A), (2, E::B { detail: None }), (2, E::A)]);

    #[test]
    fn rows_map_both_ways_by_variant_first_row_first() {
        assert_eq!(T.error(&1), Some(E::A));
        assert_eq!(T.error(&2), Some(E::B { detail: None }));
        assert_eq!(T.error(&3), None);
        assert_eq!(T.code(&E::A), Some(&1));
        assert_eq!(
            T.code(&E::B {
                detail: Some("why".into())
            }),
            Some(&2)
        );
        assert_eq!(T.code(&E::Other(7)), None);
        assert_eq!(T.rows().len(), 3);
        assert_eq!(T.find(|c| *c > 1).map(|(c, _)| *c), Some(2));
    }
}
