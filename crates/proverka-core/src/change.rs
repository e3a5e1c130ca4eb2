//! [`Change`]: how two answers to the same query differ, as its provider reads them, for
//! monitoring (`proverka watch`): each provider says what a change is
//! ([`Lookup::changes`](crate::Lookup::changes)).

use std::borrow::Cow;

use serde::Serialize;
use serde_json::Value;

/// One difference between an earlier and a later answer to the same query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// What changed, in the provider's terms (`self_employed`, `proceeding`, `debt`,
    /// `court_fs`, `list_status`, …).
    pub what: Cow<'static, str>,
    /// Which one, where an answer holds several (a proceeding's number, a person's INN).
    pub item: Option<String>,
    /// The value before; `None` when it was not there (a proceeding added).
    pub before: Option<String>,
    /// The value after; `None` when it is gone (a proceeding no longer listed).
    pub after: Option<String>,
}

impl Change {
    /// A change of `what` from `before` to `after`.
    pub fn new(
        what: impl Into<Cow<'static, str>>,
        before: Option<String>,
        after: Option<String>,
    ) -> Self {
        Self {
            what: what.into(),
            item: None,
            before,
            after,
        }
    }

    /// The change, about the item `item`.
    #[must_use]
    pub fn of(mut self, item: impl Into<String>) -> Self {
        self.item = Some(item.into());
        self
    }

    /// A change of `what` when `before` and `after` differ, else none.
    pub fn when_differ<T: PartialEq + ToString>(
        what: &'static str,
        before: Option<T>,
        after: Option<T>,
    ) -> Option<Self> {
        (before != after).then(|| {
            Self::new(
                what,
                before.map(|v| v.to_string()),
                after.map(|v| v.to_string()),
            )
        })
    }
}

/// The changes `diff` finds between two parsed answers; none when either could not be read
/// (an error or an unreadable body is no answer to compare).
pub fn compare<T, E>(
    before: Result<T, E>,
    after: Result<T, E>,
    diff: impl FnOnce(&T, &T) -> Vec<Change>,
) -> Vec<Change> {
    match (before, after) {
        (Ok(before), Ok(after)) => diff(&before, &after),
        _ => Vec::new(),
    }
}

/// Two typed answers compared whole: one change, `answer`, when they differ. What a provider
/// that does not say more gets ([`Lookup::changes`](crate::Lookup::changes)'s default).
pub fn whole_answer(before: &Value, after: &Value) -> Vec<Change> {
    if before == after {
        return Vec::new();
    }
    vec![Change::new(
        "answer",
        Some(before.to_string()),
        Some(after.to_string()),
    )]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{Change, whole_answer};

    #[test]
    fn the_same_answer_is_no_change_and_another_is_one() {
        let a = json!({"found": true});
        assert!(whole_answer(&a, &a).is_empty());
        let changes = whole_answer(&a, &json!({"found": false}));
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].what, "answer");
        assert_eq!(
            Change::when_differ("status", Some("NEW"), Some("READY")),
            Some(Change::new(
                "status",
                Some("NEW".into()),
                Some("READY".into())
            ))
        );
        assert_eq!(Change::when_differ("status", Some(1), Some(1)), None);
    }
}
