//! One page of the entities in a key or index partition.

use super::Stored;
use crate::error::DomainError;
use crate::pagination::{PageLimit, fill_page};
use crate::storage::{Item, Query, Store};

/// One page of entities and the key the next page starts after.
#[derive(Debug)]
pub struct Page<E> {
    pub items: Vec<E>,
    pub next: Option<Item>,
}

/// Fills one page of `query` (its partition, order and filter) up to `limit`, starting after
/// `start_after` (the previous page's `next`), and decodes every item. One Query per store page,
/// never a scan.
pub(crate) async fn list<E: Stored>(
    store: &dyn Store,
    mut query: Query,
    limit: PageLimit,
    start_after: Option<Item>,
) -> Result<Page<E>, DomainError> {
    query.start_after = start_after;
    let page = fill_page(store, query, limit).await?;
    let items = page
        .items
        .into_iter()
        .map(E::from_item)
        .collect::<Result<_, _>>()?;
    Ok(Page {
        items,
        next: page.next,
    })
}
