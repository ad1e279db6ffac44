//! The storage conformance suite: the behaviour every `Store` adapter must share, written once
//! and run against each adapter.
//!
//! The use cases rely on DynamoDB's semantics (conditional writes that never race, all-or-nothing
//! transactions, pagination that neither skips nor repeats, sparse indexes); the embedded store
//! reproduces them and the DynamoDB adapter translates them. A sibling module instantiates the
//! suite with [`store_conformance_suite!`] and a function returning a fresh, empty store:
//!
//! ```ignore
//! async fn fresh_store() -> std::sync::Arc<dyn itinera::storage::Store> { ... }
//! crate::conformance::store_conformance_suite!(fresh_store);
//! ```
//!
//! The test bodies below are ordinary functions taking the store; the macro only wraps each in a
//! multi-threaded `#[tokio::test]` so that concurrency tests really run in parallel. Assertions
//! cover only what DynamoDB and the embedded store both guarantee: for example, whether the last
//! page of a query carries a `last_evaluated_key` is not asserted, only that following the keys
//! ends and yields every item once. Index reads are polled until they settle, because DynamoDB's
//! indexes are eventually consistent.

pub mod dynamodb;
pub mod embedded;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use itinera::storage::{
    Comparison, Condition, Delete, Index, Item, Key, MAX_TRANSACTION_OPERATIONS, Order, Page, Put,
    Query, SortCondition, Store, StoreError, Update, WriteOp,
};
use serde_json::{Value, json};
use tokio::sync::Barrier;
use tokio::task::JoinSet;

/// Expands to one `#[tokio::test]` per conformance test, each on a store from `$fresh_store`
/// (an `async fn() -> Arc<dyn Store>` returning an isolated, empty store).
macro_rules! store_conformance_suite {
    ($fresh_store:path) => {
        $crate::conformance::store_conformance_suite!(@tests $fresh_store;
            concurrent_conditional_creates_of_one_key_have_exactly_one_winner,
            concurrent_conditional_decrements_never_go_below_zero,
            a_transaction_with_a_failing_condition_writes_nothing_and_names_the_operation,
            a_successful_transaction_applies_every_operation,
            a_transaction_touching_one_item_twice_is_invalid,
            a_transaction_needs_one_to_one_hundred_operations,
            paging_through_a_partition_returns_every_item_once_in_order,
            paging_through_an_index_returns_every_item_once_in_order,
            table_queries_apply_sort_conditions,
            index_queries_apply_sort_conditions,
            an_index_holds_only_items_with_both_of_its_key_attributes,
            version_conditions_accept_the_current_version_and_refuse_a_stale_one,
            an_update_sets_removes_and_adds_and_returns_the_new_item,
            an_update_without_a_condition_creates_the_item,
            an_update_conditioned_on_existence_does_not_create_the_item,
            updates_of_key_attributes_or_adds_to_non_numbers_are_invalid,
            a_put_replaces_the_whole_item,
            items_without_string_keys_or_over_the_size_limit_are_invalid,
            a_delete_returns_the_old_item_or_none,
            a_failed_conditional_delete_keeps_the_item,
            a_not_equal_comparison_holds_alone_and_among_others,
            a_get_of_a_missing_key_is_none_and_the_store_is_healthy,
            a_filter_applies_after_the_limit_and_paging_finds_every_match,
        );
    };
    (@tests $fresh_store:path; $($test:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $test() {
                $crate::conformance::$test($fresh_store().await).await;
            }
        )+
    };
}
pub(crate) use store_conformance_suite;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// How long an index read may take to show earlier writes (DynamoDB's indexes lag a little).
const INDEX_SETTLE_TIMEOUT: Duration = Duration::from_secs(10);
/// A bound on the pages of one query, so a pagination bug fails instead of looping forever.
const MAX_PAGES: usize = 2_000;

fn object(value: Value) -> Item {
    match value {
        Value::Object(item) => item,
        other => panic!("test items are JSON objects, not {other}"),
    }
}

/// An item with key `(pk, sk)` and the attributes of `attributes` (a JSON object).
fn item(pk: &str, sk: &str, attributes: Value) -> Item {
    let mut item = object(attributes);
    Key::new(pk, sk).write_into(&mut item);
    item
}

fn number(item: &Item, attribute: &str) -> i64 {
    let value = item
        .get(attribute)
        .unwrap_or_else(|| panic!("`{attribute}` missing from {item:?}"));
    value
        .as_i64()
        .or_else(|| {
            value
                .as_f64()
                .filter(|float| float.fract() == 0.0)
                .map(|float| float as i64)
        })
        .unwrap_or_else(|| panic!("`{attribute}` is not an integer in {item:?}"))
}

fn text<'a>(item: &'a Item, attribute: &str) -> &'a str {
    item.get(attribute)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("`{attribute}` is not a string in {item:?}"))
}

fn sort_keys(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .map(|item| text(item, "sk").to_owned())
        .collect()
}

fn put(item: Item) -> Put {
    Put {
        item,
        condition: None,
    }
}

async fn put_all(store: &Arc<dyn Store>, items: Vec<Item>) {
    // A few writes in flight at once keeps seeding quick against a remote store.
    let mut pending: JoinSet<Result<(), StoreError>> = JoinSet::new();
    for item in items {
        if pending.len() >= 16 {
            pending
                .join_next()
                .await
                .expect("a write is pending")
                .expect("the write task ran")
                .expect("the seed write succeeds");
        }
        let store = Arc::clone(store);
        pending.spawn(async move { store.put(put(item)).await });
    }
    while let Some(done) = pending.join_next().await {
        done.expect("the write task ran")
            .expect("the seed write succeeds");
    }
}

async fn get(store: &Arc<dyn Store>, pk: &str, sk: &str) -> Option<Item> {
    store
        .get(&Key::new(pk, sk))
        .await
        .expect("the read succeeds")
}

/// Every page of `query`, following `last_evaluated_key` until there is none.
async fn pages(store: &Arc<dyn Store>, mut query: Query) -> Vec<Page> {
    let mut pages = Vec::new();
    loop {
        assert!(
            pages.len() < MAX_PAGES,
            "the query did not end after {MAX_PAGES} pages"
        );
        let page = store
            .query(query.clone())
            .await
            .expect("the query succeeds");
        assert!(
            page.items.len() <= query.limit as usize,
            "a page holds at most `limit` items"
        );
        let next = page.last_evaluated_key.clone();
        pages.push(page);
        match next {
            Some(key) => query.start_after = Some(key),
            None => return pages,
        }
    }
}

async fn all_items(store: &Arc<dyn Store>, query: Query) -> Vec<Item> {
    pages(store, query)
        .await
        .into_iter()
        .flat_map(|page| page.items)
        .collect()
}

/// All items of an index query, once the index shows `expected` of them (or the timeout passed,
/// in which case the caller's assertions report what it shows).
async fn settled_index_items(store: &Arc<dyn Store>, query: Query, expected: usize) -> Vec<Item> {
    let deadline = Instant::now() + INDEX_SETTLE_TIMEOUT;
    loop {
        let items = all_items(store, query.clone()).await;
        if items.len() == expected || Instant::now() >= deadline {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn query(index: Option<Index>, partition: &str, sort: Option<SortCondition>) -> Query {
    Query {
        sort,
        ..Query::partition(index, partition)
    }
}

fn assert_invalid<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::Invalid(_))),
        "{what}: expected Invalid, got {result:?}"
    );
}

fn assert_condition_failed<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::ConditionFailed)),
        "{what}: expected ConditionFailed, got {result:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Conditional writes under contention
// ---------------------------------------------------------------------------------------------

const CONTENDERS: usize = 40;

pub(crate) async fn concurrent_conditional_creates_of_one_key_have_exactly_one_winner(
    store: Arc<dyn Store>,
) {
    let start = Arc::new(Barrier::new(CONTENDERS));
    let mut contenders = JoinSet::new();
    for writer in 0..CONTENDERS {
        let store = Arc::clone(&store);
        let start = Arc::clone(&start);
        contenders.spawn(async move {
            start.wait().await;
            let result = store
                .put(Put {
                    item: item("SEAT#12A", "HOLD", json!({ "writer": writer })),
                    condition: Some(Condition::ItemNotExists),
                })
                .await;
            (writer, result)
        });
    }
    let mut winners = Vec::new();
    while let Some(joined) = contenders.join_next().await {
        let (writer, result) = joined.expect("the contender ran");
        match result {
            Ok(()) => winners.push(writer),
            Err(StoreError::ConditionFailed) => {}
            Err(other) => panic!("writer {writer}: expected Ok or ConditionFailed, got {other:?}"),
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "exactly one create wins, winners: {winners:?}"
    );
    let stored = get(&store, "SEAT#12A", "HOLD")
        .await
        .expect("the winner's item");
    assert_eq!(
        number(&stored, "writer"),
        winners[0] as i64,
        "the stored item is the winner's"
    );
}

pub(crate) async fn concurrent_conditional_decrements_never_go_below_zero(store: Arc<dyn Store>) {
    const STOCK: i64 = 10;
    store
        .put(put(item(
            "FLIGHT#IT100",
            "INVENTORY",
            json!({ "stock": STOCK }),
        )))
        .await
        .expect("the inventory is seeded");

    let start = Arc::new(Barrier::new(CONTENDERS));
    let mut buyers = JoinSet::new();
    for _ in 0..CONTENDERS {
        let store = Arc::clone(&store);
        let start = Arc::clone(&start);
        buyers.spawn(async move {
            start.wait().await;
            let mut take_one = Update::new(Key::new("FLIGHT#IT100", "INVENTORY"));
            take_one.add.push(("stock".into(), -1));
            take_one.condition = Some(Condition::compare("stock", Comparison::GreaterOrEqual, 1));
            store.update(take_one).await
        });
    }
    let mut remaining_after_each_sale = BTreeSet::new();
    let mut refused = 0;
    while let Some(joined) = buyers.join_next().await {
        match joined.expect("the buyer ran") {
            Ok(after) => {
                let left = number(&after, "stock");
                assert!(left >= 0, "stock went negative: {left}");
                assert!(
                    remaining_after_each_sale.insert(left),
                    "two sales saw the same remaining stock {left}"
                );
            }
            Err(StoreError::ConditionFailed) => refused += 1,
            Err(other) => panic!("expected Ok or ConditionFailed, got {other:?}"),
        }
    }
    assert_eq!(
        remaining_after_each_sale,
        (0..STOCK).collect::<BTreeSet<_>>(),
        "each sale took exactly one unit"
    );
    assert_eq!(refused, CONTENDERS - STOCK as usize);
    let inventory = get(&store, "FLIGHT#IT100", "INVENTORY")
        .await
        .expect("the inventory");
    assert_eq!(number(&inventory, "stock"), 0);
}

// ---------------------------------------------------------------------------------------------
// Transactions
// ---------------------------------------------------------------------------------------------

pub(crate) async fn a_transaction_with_a_failing_condition_writes_nothing_and_names_the_operation(
    store: Arc<dyn Store>,
) {
    put_all(
        &store,
        vec![
            item("BOOKING#1", "META", json!({ "status": "cancelled" })),
            item("BOOKING#1", "SEAT#3C", json!({ "held": true })),
        ],
    )
    .await;

    let mut confirm = Update::new(Key::new("BOOKING#1", "META"));
    confirm.set.push(("status".into(), json!("confirmed")));
    confirm.condition = Some(Condition::compare("status", Comparison::Equal, "pending"));
    let outcome = store
        .transact(vec![
            WriteOp::Put(Put {
                item: item("BOOKING#1", "PAYMENT", json!({ "amount": 120 })),
                condition: Some(Condition::ItemNotExists),
            }),
            WriteOp::Update(confirm),
            WriteOp::Delete(Delete {
                key: Key::new("BOOKING#1", "SEAT#3C"),
                condition: None,
            }),
        ])
        .await;

    assert!(
        matches!(
            outcome,
            Err(StoreError::TransactionConditionFailed { index: 1 })
        ),
        "expected the second operation to be named, got {outcome:?}"
    );
    assert_eq!(
        get(&store, "BOOKING#1", "PAYMENT").await,
        None,
        "the put was not applied"
    );
    let booking = get(&store, "BOOKING#1", "META").await.expect("the booking");
    assert_eq!(
        text(&booking, "status"),
        "cancelled",
        "the update was not applied"
    );
    assert!(
        get(&store, "BOOKING#1", "SEAT#3C").await.is_some(),
        "the delete was not applied"
    );
}

pub(crate) async fn a_successful_transaction_applies_every_operation(store: Arc<dyn Store>) {
    put_all(
        &store,
        vec![
            item(
                "BOOKING#2",
                "META",
                json!({ "status": "pending", "version": 1, "seats": 1 }),
            ),
            item("BOOKING#2", "HOLD", json!({ "until": 100 })),
            item("FLIGHT#IT200", "META", json!({ "open": true })),
        ],
    )
    .await;

    let mut confirm = Update::new(Key::new("BOOKING#2", "META"));
    confirm.set.push(("status".into(), json!("confirmed")));
    confirm.set.push(("version".into(), json!(2)));
    confirm.add.push(("seats".into(), 1));
    confirm.condition = Some(Condition::version_is(1));
    store
        .transact(vec![
            WriteOp::Put(Put {
                item: item("BOOKING#2", "PAYMENT", json!({ "amount": 240 })),
                condition: Some(Condition::ItemNotExists),
            }),
            WriteOp::Update(confirm),
            WriteOp::Delete(Delete {
                key: Key::new("BOOKING#2", "HOLD"),
                condition: Some(Condition::ItemExists),
            }),
            WriteOp::Check {
                key: Key::new("FLIGHT#IT200", "META"),
                condition: Condition::compare("open", Comparison::Equal, true),
            },
        ])
        .await
        .expect("every condition holds");

    let payment = get(&store, "BOOKING#2", "PAYMENT")
        .await
        .expect("the put applied");
    assert_eq!(number(&payment, "amount"), 240);
    let booking = get(&store, "BOOKING#2", "META").await.expect("the booking");
    assert_eq!(text(&booking, "status"), "confirmed");
    assert_eq!(number(&booking, "version"), 2);
    assert_eq!(number(&booking, "seats"), 2);
    assert_eq!(
        get(&store, "BOOKING#2", "HOLD").await,
        None,
        "the delete applied"
    );
    let flight = get(&store, "FLIGHT#IT200", "META")
        .await
        .expect("the checked item");
    assert_eq!(
        flight,
        item("FLIGHT#IT200", "META", json!({ "open": true })),
        "unchanged"
    );
}

pub(crate) async fn a_transaction_touching_one_item_twice_is_invalid(store: Arc<dyn Store>) {
    let mut update = Update::new(Key::new("BOOKING#3", "META"));
    update.set.push(("status".into(), json!("confirmed")));
    let outcome = store
        .transact(vec![
            WriteOp::Put(put(item(
                "BOOKING#3",
                "META",
                json!({ "status": "pending" }),
            ))),
            WriteOp::Update(update),
        ])
        .await;
    assert_invalid(outcome, "two operations on BOOKING#3|META");
    assert_eq!(
        get(&store, "BOOKING#3", "META").await,
        None,
        "nothing was written"
    );
}

pub(crate) async fn a_transaction_needs_one_to_one_hundred_operations(store: Arc<dyn Store>) {
    assert_invalid(store.transact(Vec::new()).await, "an empty transaction");

    let too_many = (0..=MAX_TRANSACTION_OPERATIONS)
        .map(|n| WriteOp::Put(put(item("BULK", &format!("ITEM#{n:03}"), json!({})))))
        .collect();
    assert_invalid(store.transact(too_many).await, "101 operations");
    assert_eq!(
        get(&store, "BULK", "ITEM#000").await,
        None,
        "nothing was written"
    );

    let most = (0..MAX_TRANSACTION_OPERATIONS)
        .map(|n| WriteOp::Put(put(item("BULK", &format!("ITEM#{n:03}"), json!({})))))
        .collect();
    store
        .transact(most)
        .await
        .expect("100 operations are allowed");
    assert!(get(&store, "BULK", "ITEM#099").await.is_some());
}

// ---------------------------------------------------------------------------------------------
// Queries and pagination
// ---------------------------------------------------------------------------------------------

const PAGED_ITEMS: usize = 250;
const PAGE_LIMIT: u32 = 7;

pub(crate) async fn paging_through_a_partition_returns_every_item_once_in_order(
    store: Arc<dyn Store>,
) {
    let mut items: Vec<Item> = (0..PAGED_ITEMS)
        .map(|n| item("FLIGHT#IT300", &format!("SEAT#{n:04}"), json!({ "n": n })))
        .collect();
    // Neighbouring partitions, one of them a prefix-extension of the queried one, must not leak in.
    items.push(item("FLIGHT#IT30", "SEAT#0000", json!({})));
    items.push(item("FLIGHT#IT3000", "SEAT#0000", json!({})));
    items.push(item("FLIGHT#IT301", "A", json!({})));
    put_all(&store, items).await;

    let expected: Vec<String> = (0..PAGED_ITEMS).map(|n| format!("SEAT#{n:04}")).collect();
    for order in [Order::Ascending, Order::Descending] {
        let query = Query {
            order,
            limit: PAGE_LIMIT,
            ..Query::partition(None, "FLIGHT#IT300")
        };
        let pages = pages(&store, query).await;
        assert!(
            pages.len() >= PAGED_ITEMS / PAGE_LIMIT as usize,
            "{order:?}: {} pages for {PAGED_ITEMS} items at {PAGE_LIMIT} a page",
            pages.len()
        );
        let found = sort_keys(
            &pages
                .into_iter()
                .flat_map(|page| page.items)
                .collect::<Vec<_>>(),
        );
        let mut wanted = expected.clone();
        if order == Order::Descending {
            wanted.reverse();
        }
        assert_eq!(found, wanted, "{order:?}: every item once, in order");
    }
}

pub(crate) async fn paging_through_an_index_returns_every_item_once_in_order(
    store: Arc<dyn Store>,
) {
    // Twenty distinct index sort keys, so many items tie and ties straddle page boundaries.
    let items: Vec<Item> = (0..PAGED_ITEMS)
        .map(|n| {
            item(
                &format!("BOOKING#{n:04}"),
                "META",
                json!({ "gsi1pk": "PASSENGER#ada", "gsi1sk": format!("DATE#{:02}", n % 20) }),
            )
        })
        .chain([item(
            "BOOKING#OTHER",
            "META",
            json!({ "gsi1pk": "PASSENGER#adam", "gsi1sk": "DATE#00" }),
        )])
        .collect();
    put_all(&store, items).await;

    let expected: BTreeSet<String> = (0..PAGED_ITEMS)
        .map(|n| format!("BOOKING#{n:04}"))
        .collect();
    for order in [Order::Ascending, Order::Descending] {
        let query = Query {
            order,
            limit: PAGE_LIMIT,
            ..Query::partition(Some(Index::Gsi1), "PASSENGER#ada")
        };
        let found = settled_index_items(&store, query, PAGED_ITEMS).await;
        let booking_keys: Vec<&str> = found.iter().map(|item| text(item, "pk")).collect();
        let distinct: BTreeSet<String> = booking_keys.iter().map(|pk| pk.to_string()).collect();
        assert_eq!(
            booking_keys.len(),
            PAGED_ITEMS,
            "{order:?}: no item repeated or missing"
        );
        assert_eq!(
            distinct, expected,
            "{order:?}: exactly the partition's items"
        );

        let index_sort_keys: Vec<&str> = found.iter().map(|item| text(item, "gsi1sk")).collect();
        let mut sorted = index_sort_keys.clone();
        sorted.sort_unstable();
        if order == Order::Descending {
            sorted.reverse();
        }
        assert_eq!(
            index_sort_keys, sorted,
            "{order:?}: in index sort key order"
        );
    }
}

fn dated_items() -> Vec<Item> {
    // Dates of one month prefix another month's ("2024-1" vs "2024-10"): begins_with must respect
    // that, and comparisons are by bytes.
    [
        "2024-01-05",
        "2024-01-20",
        "2024-02-01",
        "2024-02-14",
        "2024-02-29",
        "2024-03-01",
        "2024-10-01",
        "2024-11-11",
    ]
    .iter()
    .enumerate()
    .map(|(n, date)| {
        item(
            "CITY#ROM",
            date,
            json!({ "gsi2pk": "DEPARTURES#ROM", "gsi2sk": date, "n": n }),
        )
    })
    .collect()
}

fn sort_condition_cases() -> Vec<(SortCondition, Vec<&'static str>)> {
    vec![
        (
            SortCondition::Equal("2024-02-14".into()),
            vec!["2024-02-14"],
        ),
        (
            SortCondition::Less("2024-02-01".into()),
            vec!["2024-01-05", "2024-01-20"],
        ),
        (
            SortCondition::LessOrEqual("2024-02-01".into()),
            vec!["2024-01-05", "2024-01-20", "2024-02-01"],
        ),
        (
            SortCondition::Greater("2024-03-01".into()),
            vec!["2024-10-01", "2024-11-11"],
        ),
        (
            SortCondition::GreaterOrEqual("2024-03-01".into()),
            vec!["2024-03-01", "2024-10-01", "2024-11-11"],
        ),
        (
            SortCondition::Between("2024-01-20".into(), "2024-02-29".into()),
            vec!["2024-01-20", "2024-02-01", "2024-02-14", "2024-02-29"],
        ),
        (
            SortCondition::BeginsWith("2024-02".into()),
            vec!["2024-02-01", "2024-02-14", "2024-02-29"],
        ),
        (
            SortCondition::BeginsWith("2024-1".into()),
            vec!["2024-10-01", "2024-11-11"],
        ),
        (SortCondition::BeginsWith("2025".into()), vec![]),
    ]
}

pub(crate) async fn table_queries_apply_sort_conditions(store: Arc<dyn Store>) {
    put_all(&store, dated_items()).await;
    for (sort, expected) in sort_condition_cases() {
        for order in [Order::Ascending, Order::Descending] {
            let query = Query {
                order,
                ..query(None, "CITY#ROM", Some(sort.clone()))
            };
            let found = sort_keys(&all_items(&store, query).await);
            let mut wanted: Vec<String> = expected.iter().map(|sk| sk.to_string()).collect();
            if order == Order::Descending {
                wanted.reverse();
            }
            assert_eq!(found, wanted, "{sort:?} {order:?}");
        }
    }
}

pub(crate) async fn index_queries_apply_sort_conditions(store: Arc<dyn Store>) {
    put_all(&store, dated_items()).await;
    let everything = query(Some(Index::Gsi2), "DEPARTURES#ROM", None);
    assert_eq!(settled_index_items(&store, everything, 8).await.len(), 8);
    for (sort, expected) in sort_condition_cases() {
        for order in [Order::Ascending, Order::Descending] {
            let query = Query {
                order,
                limit: 2,
                ..query(Some(Index::Gsi2), "DEPARTURES#ROM", Some(sort.clone()))
            };
            let found: Vec<String> = all_items(&store, query)
                .await
                .iter()
                .map(|item| text(item, "gsi2sk").to_owned())
                .collect();
            let mut wanted: Vec<String> = expected.iter().map(|sk| sk.to_string()).collect();
            if order == Order::Descending {
                wanted.reverse();
            }
            assert_eq!(found, wanted, "{sort:?} {order:?}");
        }
    }
}

pub(crate) async fn an_index_holds_only_items_with_both_of_its_key_attributes(
    store: Arc<dyn Store>,
) {
    put_all(
        &store,
        vec![
            item(
                "AIRPLANE#1",
                "META",
                json!({ "gsi1pk": "FLEET", "gsi1sk": "A320#1" }),
            ),
            item("AIRPLANE#2", "META", json!({ "gsi1pk": "FLEET" })),
            item("AIRPLANE#3", "META", json!({ "gsi1sk": "A320#3" })),
            item("AIRPLANE#4", "META", json!({ "model": "A320" })),
        ],
    )
    .await;
    let fleet = || query(Some(Index::Gsi1), "FLEET", None);
    let fleet_members = |items: Vec<Item>| -> Vec<String> {
        items
            .iter()
            .map(|item| text(item, "pk").to_owned())
            .collect()
    };

    let found = settled_index_items(&store, fleet(), 1).await;
    assert_eq!(
        fleet_members(found),
        ["AIRPLANE#1"],
        "only the fully keyed item is indexed"
    );

    // Completing the index key adds the item; the index returns the whole item.
    let mut complete = Update::new(Key::new("AIRPLANE#2", "META"));
    complete.set.push(("gsi1sk".into(), json!("A320#2")));
    store.update(complete).await.expect("the update succeeds");
    let found = settled_index_items(&store, fleet(), 2).await;
    assert_eq!(fleet_members(found.clone()), ["AIRPLANE#1", "AIRPLANE#2"]);
    assert_eq!(
        found[1],
        item(
            "AIRPLANE#2",
            "META",
            json!({ "gsi1pk": "FLEET", "gsi1sk": "A320#2" })
        )
    );

    // Removing half the index key takes it out again.
    let mut retire = Update::new(Key::new("AIRPLANE#1", "META"));
    retire.remove.push("gsi1pk".into());
    store.update(retire).await.expect("the update succeeds");
    let found = settled_index_items(&store, fleet(), 1).await;
    assert_eq!(fleet_members(found), ["AIRPLANE#2"]);

    // Changing the index partition moves the item between index partitions.
    let mut transfer = Update::new(Key::new("AIRPLANE#2", "META"));
    transfer.set.push(("gsi1pk".into(), json!("HANGAR")));
    store.update(transfer).await.expect("the update succeeds");
    let found = settled_index_items(&store, fleet(), 0).await;
    assert_eq!(fleet_members(found), Vec::<String>::new());
    let hangar = settled_index_items(&store, query(Some(Index::Gsi1), "HANGAR", None), 1).await;
    assert_eq!(fleet_members(hangar), ["AIRPLANE#2"]);

    // Deleting the item removes it from the index.
    store
        .delete(Delete {
            key: Key::new("AIRPLANE#2", "META"),
            condition: None,
        })
        .await
        .expect("the delete succeeds");
    let hangar = settled_index_items(&store, query(Some(Index::Gsi1), "HANGAR", None), 0).await;
    assert_eq!(fleet_members(hangar), Vec::<String>::new());

    // The other index never saw any of them.
    let other = all_items(&store, query(Some(Index::Gsi2), "FLEET", None)).await;
    assert!(other.is_empty(), "gsi2 holds {other:?}");
}

pub(crate) async fn a_filter_applies_after_the_limit_and_paging_finds_every_match(
    store: Arc<dyn Store>,
) {
    let items = (0..30)
        .map(|n| {
            let status = if n % 3 == 0 { "open" } else { "closed" };
            item(
                "ROUTE#FCO-JFK",
                &format!("DAY#{n:02}"),
                json!({ "status": status }),
            )
        })
        .collect();
    put_all(&store, items).await;
    let open = Query {
        limit: 5,
        filter: Some(Condition::compare("status", Comparison::Equal, "open")),
        ..Query::partition(None, "ROUTE#FCO-JFK")
    };

    // The first five items are evaluated, two of them match: the page is short but not the end.
    let first = store.query(open.clone()).await.expect("the query succeeds");
    assert_eq!(sort_keys(&first.items), ["DAY#00", "DAY#03"]);
    let resume = first
        .last_evaluated_key
        .expect("more items remain after five of thirty");
    assert_eq!(
        resume.get("sk"),
        Some(&json!("DAY#04")),
        "the last evaluated, not the last kept"
    );

    let all = all_items(&store, open).await;
    let expected: Vec<String> = (0..30).step_by(3).map(|n| format!("DAY#{n:02}")).collect();
    assert_eq!(sort_keys(&all), expected, "every match once, in order");
}

// ---------------------------------------------------------------------------------------------
// Single-item writes
// ---------------------------------------------------------------------------------------------

pub(crate) async fn version_conditions_accept_the_current_version_and_refuse_a_stale_one(
    store: Arc<dyn Store>,
) {
    store
        .put(Put {
            item: item("AIRPLANE#9", "META", json!({ "version": 1, "seats": 180 })),
            condition: Some(Condition::ItemNotExists),
        })
        .await
        .expect("the create succeeds");

    store
        .put(Put {
            item: item("AIRPLANE#9", "META", json!({ "version": 2, "seats": 186 })),
            condition: Some(Condition::version_is(1)),
        })
        .await
        .expect("a put on the current version succeeds");
    let stale_put = store
        .put(Put {
            item: item("AIRPLANE#9", "META", json!({ "version": 2, "seats": 150 })),
            condition: Some(Condition::version_is(1)),
        })
        .await;
    assert_condition_failed(stale_put, "a put on version 1 after version 2");

    let mut bump = Update::new(Key::new("AIRPLANE#9", "META"));
    bump.set.push(("version".into(), json!(3)));
    bump.set.push(("seats".into(), json!(189)));
    bump.condition = Some(Condition::version_is(2));
    let updated = store
        .update(bump.clone())
        .await
        .expect("an update on the current version");
    assert_eq!(number(&updated, "version"), 3);
    assert_condition_failed(
        store.update(bump).await,
        "an update on version 2 after version 3",
    );

    let stored = get(&store, "AIRPLANE#9", "META")
        .await
        .expect("the airplane");
    assert_eq!(number(&stored, "version"), 3);
    assert_eq!(
        number(&stored, "seats"),
        189,
        "stale writes changed nothing"
    );

    let missing = store
        .put(Put {
            item: item("AIRPLANE#10", "META", json!({ "version": 2 })),
            condition: Some(Condition::version_is(1)),
        })
        .await;
    assert_condition_failed(missing, "a version check on a missing item");
    assert_eq!(get(&store, "AIRPLANE#10", "META").await, None);
}

pub(crate) async fn an_update_sets_removes_and_adds_and_returns_the_new_item(
    store: Arc<dyn Store>,
) {
    store
        .put(put(item(
            "PASSENGER#ada",
            "PROFILE",
            json!({ "name": "Ada", "nickname": "A", "miles": 100, "tier": "silver" }),
        )))
        .await
        .expect("the seed succeeds");

    let mut update = Update::new(Key::new("PASSENGER#ada", "PROFILE"));
    update.set.push(("tier".into(), json!("gold")));
    update
        .set
        .push(("seat".into(), json!({ "preference": "aisle" })));
    update.remove.push("nickname".into());
    update.remove.push("never-there".into());
    update.add.push(("miles".into(), 250));
    update.add.push(("flights".into(), 1));
    let returned = store.update(update).await.expect("the update succeeds");

    let expected = item(
        "PASSENGER#ada",
        "PROFILE",
        json!({
            "name": "Ada", "miles": 350, "tier": "gold", "flights": 1,
            "seat": { "preference": "aisle" },
        }),
    );
    assert_eq!(returned, expected, "the update returns the item after it");
    assert_eq!(
        get(&store, "PASSENGER#ada", "PROFILE").await,
        Some(expected)
    );

    let mut refund = Update::new(Key::new("PASSENGER#ada", "PROFILE"));
    refund.add.push(("miles".into(), -400));
    let returned = store
        .update(refund)
        .await
        .expect("ADD accepts negative amounts");
    assert_eq!(number(&returned, "miles"), -50);
}

pub(crate) async fn an_update_without_a_condition_creates_the_item(store: Arc<dyn Store>) {
    let mut count = Update::new(Key::new("ROUTE#FCO-JFK", "COUNTER"));
    count.add.push(("searches".into(), 1));
    count.set.push(("route".into(), json!("FCO-JFK")));
    let created = store
        .update(count.clone())
        .await
        .expect("the upsert succeeds");
    assert_eq!(
        created,
        item(
            "ROUTE#FCO-JFK",
            "COUNTER",
            json!({ "searches": 1, "route": "FCO-JFK" })
        ),
        "ADD on a missing attribute starts from zero"
    );
    let again = store
        .update(count)
        .await
        .expect("the second update succeeds");
    assert_eq!(number(&again, "searches"), 2);
}

pub(crate) async fn an_update_conditioned_on_existence_does_not_create_the_item(
    store: Arc<dyn Store>,
) {
    let mut rename = Update::new(Key::new("AIRPLANE#404", "META"));
    rename.set.push(("name".into(), json!("ghost")));
    rename.condition = Some(Condition::ItemExists);
    assert_condition_failed(store.update(rename).await, "an update of a missing item");
    assert_eq!(get(&store, "AIRPLANE#404", "META").await, None);
}

pub(crate) async fn updates_of_key_attributes_or_adds_to_non_numbers_are_invalid(
    store: Arc<dyn Store>,
) {
    store
        .put(put(item(
            "AIRPLANE#5",
            "META",
            json!({ "name": "Vespucci", "seats": 9 }),
        )))
        .await
        .expect("the seed succeeds");

    let mut move_key = Update::new(Key::new("AIRPLANE#5", "META"));
    move_key.set.push(("sk".into(), json!("OTHER")));
    assert_invalid(store.update(move_key).await, "SET of the sort key");

    let mut drop_key = Update::new(Key::new("AIRPLANE#5", "META"));
    drop_key.remove.push("pk".into());
    assert_invalid(store.update(drop_key).await, "REMOVE of the partition key");

    let mut add_to_text = Update::new(Key::new("AIRPLANE#5", "META"));
    add_to_text.add.push(("name".into(), 1));
    add_to_text.set.push(("seats".into(), json!(0)));
    assert_invalid(store.update(add_to_text).await, "ADD to a string");

    let unchanged = get(&store, "AIRPLANE#5", "META").await;
    assert_eq!(
        unchanged,
        Some(item(
            "AIRPLANE#5",
            "META",
            json!({ "name": "Vespucci", "seats": 9 })
        )),
        "refused updates changed nothing"
    );
}

pub(crate) async fn a_put_replaces_the_whole_item(store: Arc<dyn Store>) {
    store
        .put(put(item(
            "AIRPLANE#6",
            "META",
            json!({ "name": "Colombo", "seats": 120 }),
        )))
        .await
        .expect("the first put succeeds");
    store
        .put(Put {
            item: item("AIRPLANE#6", "META", json!({ "seats": 150 })),
            condition: Some(Condition::ItemExists),
        })
        .await
        .expect("the replacing put succeeds");
    assert_eq!(
        get(&store, "AIRPLANE#6", "META").await,
        Some(item("AIRPLANE#6", "META", json!({ "seats": 150 }))),
        "attributes absent from the new item are gone"
    );
}

pub(crate) async fn items_without_string_keys_or_over_the_size_limit_are_invalid(
    store: Arc<dyn Store>,
) {
    let no_sort_key = object(json!({ "pk": "AIRPLANE#7", "name": "Magellano" }));
    assert_invalid(store.put(put(no_sort_key)).await, "an item without `sk`");

    let numeric_key = object(json!({ "pk": "AIRPLANE#7", "sk": 7 }));
    assert_invalid(
        store.put(put(numeric_key)).await,
        "an item with a numeric `sk`",
    );

    // Half a megabyte: over DynamoDB's 400 KB however the size is measured.
    let oversized = item(
        "AIRPLANE#7",
        "META",
        json!({ "blob": "x".repeat(500 * 1024) }),
    );
    assert_invalid(store.put(put(oversized)).await, "an item over 400 KB");
    assert_eq!(get(&store, "AIRPLANE#7", "META").await, None);
}

pub(crate) async fn a_delete_returns_the_old_item_or_none(store: Arc<dyn Store>) {
    let absent = store
        .delete(Delete {
            key: Key::new("BOOKING#9", "META"),
            condition: None,
        })
        .await
        .expect("deleting a missing item succeeds");
    assert_eq!(absent, None);

    let booking = item(
        "BOOKING#9",
        "META",
        json!({ "status": "pending", "seats": 2 }),
    );
    store
        .put(put(booking.clone()))
        .await
        .expect("the seed succeeds");
    let old = store
        .delete(Delete {
            key: Key::new("BOOKING#9", "META"),
            condition: Some(Condition::compare("status", Comparison::Equal, "pending")),
        })
        .await
        .expect("the conditional delete succeeds");
    assert_eq!(old, Some(booking), "the delete returns the item as it was");
    assert_eq!(get(&store, "BOOKING#9", "META").await, None);
}

pub(crate) async fn a_failed_conditional_delete_keeps_the_item(store: Arc<dyn Store>) {
    let booking = item("BOOKING#10", "META", json!({ "status": "confirmed" }));
    store
        .put(put(booking.clone()))
        .await
        .expect("the seed succeeds");
    let refused = store
        .delete(Delete {
            key: Key::new("BOOKING#10", "META"),
            condition: Some(Condition::compare("status", Comparison::Equal, "pending")),
        })
        .await;
    assert_condition_failed(refused, "deleting a confirmed booking as pending");
    assert_eq!(get(&store, "BOOKING#10", "META").await, Some(booking));

    let missing = store
        .delete(Delete {
            key: Key::new("BOOKING#11", "META"),
            condition: Some(Condition::ItemExists),
        })
        .await;
    assert_condition_failed(missing, "deleting a missing item that must exist");
}

pub(crate) async fn a_not_equal_comparison_holds_alone_and_among_others(store: Arc<dyn Store>) {
    let car = item("CAR#1", "CAR", json!({ "status": "available", "count": 1 }));
    store
        .put(put(car.clone()))
        .await
        .expect("the seed succeeds");
    let not = |status: &str| Condition::compare("status", Comparison::NotEqual, status);
    let count_is_one = Condition::compare("count", Comparison::Equal, 1);
    let delete_when = |condition: Condition| Delete {
        key: Key::new("CAR#1", "CAR"),
        condition: Some(condition),
    };

    let refused = store.delete(delete_when(not("available"))).await;
    assert_condition_failed(refused, "not-equal to the value it holds");
    let refused = store
        .delete(delete_when(Condition::And(vec![
            not("retired"),
            Condition::compare("count", Comparison::Equal, 2),
        ])))
        .await;
    assert_condition_failed(
        refused,
        "a not-equal that holds beside a comparison that does not",
    );
    let missing = Condition::compare("colour", Comparison::NotEqual, "red");
    let refused = store.delete(delete_when(missing)).await;
    assert_condition_failed(refused, "not-equal on a missing attribute");
    assert_eq!(get(&store, "CAR#1", "CAR").await, Some(car.clone()));

    let old = store
        .delete(delete_when(Condition::And(vec![
            not("retired"),
            count_is_one,
            not("maintenance"),
        ])))
        .await
        .expect("two not-equals and a comparison that all hold");
    assert_eq!(old, Some(car));
}

pub(crate) async fn a_get_of_a_missing_key_is_none_and_the_store_is_healthy(store: Arc<dyn Store>) {
    store
        .check_health()
        .await
        .expect("a fresh store is healthy");
    assert_eq!(get(&store, "NOBODY", "NOTHING").await, None);
    store
        .put(put(item("SOMEBODY", "SOMETHING", json!({}))))
        .await
        .expect("the seed succeeds");
    assert_eq!(
        get(&store, "SOMEBODY", "NOTHING").await,
        None,
        "same partition, other sort key"
    );
    assert_eq!(
        get(&store, "NOBODY", "SOMETHING").await,
        None,
        "same sort key, other partition"
    );
    assert!(get(&store, "SOMEBODY", "SOMETHING").await.is_some());
}
