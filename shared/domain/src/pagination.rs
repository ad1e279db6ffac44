//! Page sizes and the page-filling walk over a query: the rules every list endpoint shares.

use crate::storage::{Item, Query, Store, StoreError, TABLE};

/// How many items a list page holds: 1 to 100, 20 when the caller does not say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageLimit(u32);

impl PageLimit {
    pub const DEFAULT: Self = Self(20);
    pub const MAX: u32 = 100;

    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for PageLimit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl TryFrom<i64> for PageLimit {
    type Error = String;

    fn try_from(value: i64) -> Result<Self, Self::Error> {
        u32::try_from(value)
            .ok()
            .filter(|limit| (1..=Self::MAX).contains(limit))
            .map(Self)
            .ok_or_else(|| format!("must be between 1 and {}", Self::MAX))
    }
}

/// One page of items and where the next one starts (`None` when this was the last).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ItemPage {
    pub items: Vec<Item>,
    pub next: Option<Item>,
}

/// How many queries one page may take when a filter drops items. Bounds the reads a single
/// request can cost; a short page with a `next` key is the answer when the bound is reached.
const MAX_QUERIES_PER_PAGE: usize = 5;

/// Fills one page of up to `limit` matching items from `query`, resuming after `query.start_after`.
///
/// The store applies a filter after its own limit, so a filtered query may need several round
/// trips; when a round returns more matches than the page has room for, the page ends at the last
/// item it keeps and the next page resumes right after it.
pub async fn fill_page(
    store: &dyn Store,
    mut query: Query,
    limit: PageLimit,
) -> Result<ItemPage, StoreError> {
    let wanted = limit.get() as usize;
    let mut items = Vec::with_capacity(wanted);
    query.limit = limit.get();
    for _ in 0..MAX_QUERIES_PER_PAGE {
        let page = store.query(query.clone()).await?;
        let mut matches = page.items.into_iter();
        for item in matches.by_ref() {
            items.push(item);
            if items.len() == wanted {
                break;
            }
        }
        let page_full = items.len() == wanted;
        if page_full && matches.len() > 0 {
            let last = items.last().map(|item| key_attributes(item, &query));
            return Ok(ItemPage { items, next: last });
        }
        match page.last_evaluated_key {
            Some(key) if !page_full => query.start_after = Some(key),
            next => return Ok(ItemPage { items, next }),
        }
    }
    Ok(ItemPage {
        next: query.start_after,
        items,
    })
}

/// The attributes of `item` that form a start key for `query`: the table key, plus the index key
/// when the query runs on an index.
pub(crate) fn key_attributes(item: &Item, query: &Query) -> Item {
    let mut names = vec![TABLE.partition_key, TABLE.sort_key];
    if let Some(index) = query.index {
        names.extend([index.partition_key(), index.sort_key()]);
    }
    names
        .into_iter()
        .filter_map(|name| item.get(name).map(|value| (name.to_owned(), value.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_limit_defaults_to_20_and_accepts_1_to_100() {
        assert_eq!(PageLimit::default().get(), 20);
        assert_eq!(PageLimit::try_from(1).unwrap().get(), 1);
        assert_eq!(PageLimit::try_from(100).unwrap().get(), 100);
        for invalid in [0, -1, 101] {
            assert!(PageLimit::try_from(invalid).is_err());
        }
    }
}
