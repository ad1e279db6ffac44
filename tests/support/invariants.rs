//! What must hold of the stored data after any failure: the invariant checkers every fault test
//! runs once the dust settles (the fault matrix after each injected fault, the `kill -9` test
//! after a restart).
//!
//! The checkers read the whole data set through the store port, the way the domain reads it:
//! only Queries of partitions the data model already keeps (`BOOKINGS`, `HOLDS`, `OUTBOX`,
//! `CONTRACTS`, `CARS`, `CUSTOMERS`, a car's `DAY#` slots, a customer's `USER_HOLDS#`) and
//! GetItems of known keys, never a scan: the port has none, and a test-only one would check a
//! path production never takes. They read the items raw, as `docs/data-model.md` lays them
//! out, not through the domain's codecs, so a codec that misreads an attribute cannot hide a
//! violation it caused.
//!
//! What is checked (each rule names the transaction that keeps it):
//! - **Seats.** Each booked flight's `remainingSeats` is its `totalSeats` minus the seats of its
//!   pending and confirmed bookings, and its `bookingCount` is the number of its bookings. A flight
//!   with no booking at all is only reached through the `DEPARTURES#<day>` partition of a day a
//!   booked flight departs on: the port cannot list every flight without a scan, and a flight's
//!   seat counters only ever move in a transaction with one of its bookings.
//! - **Holds.** The `HOLDS` markers are exactly the pending bookings, each under the key of its
//!   hold's expiry; a customer's `USER_HOLDS#` partition holds one flight marker per flight they
//!   hold a pending booking on, naming it, and a `pending` count equal to their pending bookings.
//! - **Payments.** A booking with a `paymentId` (confirmed, or cancelled after it was) has its
//!   `PAYMENT` record with that id; one without has none; a confirmed booking was never voided.
//!   With a [`LedgerGateway`]: a confirmed booking kept exactly one charge, a booking that is not
//!   confirmed kept none, unless an open intent (`paymentIntent`, `refundIntent`) is still to
//!   settle it; nothing was charged twice, refunded without a charge, or charged for a booking that
//!   does not exist.
//! - **Rental days.** Each contract that is not cancelled owns the slot of every day of its
//!   period; every slot names a contract of its car that is not cancelled and whose days include
//!   the slot's (a late return's overrun days included); a cancelled contract owns none.
//! - **Counters.** A car's `contractCount` is the number of its contracts that are not
//!   cancelled, a customer's `openContracts` the number of theirs reserved or active; a car is
//!   `rented` exactly while one of its contracts is active.
//! - **Jobs.** Every change that stages a job can be seen to have it: a confirmed, cancelled or
//!   expired booking its notice, every contract its `contract-reserved` notice, every open intent
//!   its settling task. A job is found staged in the `OUTBOX` partition, done (the worker's
//!   `JOB#<dedup key>` record), or among the messages the caller saw dispatched to the queue
//!   ([`Invariants::dispatched`]): a job sent and not yet processed lives only in the queue, which
//!   the store cannot see. Reminders are not checked: whether one is due depends on the clock of
//!   the run that would stage it, not on the stored state.
//!
//! Counters this file does not check, and why: an airplane's `activeFlights` and an airport's
//! `flightCount` count flights, which the port lists only by route and day or departure day;
//! they are moved by flight writes, which no booking, payment or contract touches.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use itinera::jobs::{Work, outbox};
use itinera::storage::{Index, Item, Key, Query, SortCondition, Store, query_all};
use serde_json::Value;

use crate::ledger::LedgerGateway;

/// The checkers over one store, with the evidence from outside it that the caller holds.
pub struct Invariants<'a> {
    store: &'a dyn Store,
    ledger: Option<&'a LedgerGateway>,
    /// What the caller saw sent to the queue: the dedup keys of notices and the outbox sort keys
    /// of every job and task.
    dispatched: HashSet<String>,
}

/// Panics listing every violation when the stored data breaks an invariant: the one call a test
/// makes after a fault, when it holds no ledger and has drained (or never had) a queue.
pub async fn assert_consistent(store: &dyn Store) {
    Invariants::of(store).assert_hold().await;
}

impl<'a> Invariants<'a> {
    /// The checkers over `store`, with no evidence from outside it.
    pub fn of(store: &'a dyn Store) -> Self {
        Self {
            store,
            ledger: None,
            dispatched: HashSet::new(),
        }
    }

    /// Also balances the provider's books against the bookings.
    pub fn ledger(mut self, ledger: &'a LedgerGateway) -> Self {
        self.ledger = Some(ledger);
        self
    }

    /// Counts the jobs and tasks in these queue message bodies as dispatched: sent to the queue,
    /// which is as good as staged (a body that is not a job is ignored).
    pub fn dispatched<S: AsRef<str>>(mut self, bodies: impl IntoIterator<Item = S>) -> Self {
        for body in bodies {
            match Work::from_body(body.as_ref()) {
                Ok(Work::Notice(job)) => {
                    self.dispatched.insert(job.dedup_key());
                    self.dispatched.insert(outbox::sort_key(&job));
                }
                Ok(Work::Task(task)) => {
                    self.dispatched.insert(outbox::sort_key(&task));
                }
                Err(_) => {}
            }
        }
        self
    }

    /// Panics listing every violation, if there is one.
    pub async fn assert_hold(&self) {
        let violations = self.violations().await;
        assert!(
            violations.is_empty(),
            "the stored data breaks {} invariant(s):\n  {}",
            violations.len(),
            violations.join("\n  ")
        );
    }

    /// Every violation found, each a sentence naming the items involved; empty when all hold.
    pub async fn violations(&self) -> Vec<String> {
        let mut found = Found::default();
        let jobs = self.staged_or_done().await;
        self.check_bookings(&jobs, &mut found).await;
        self.check_contracts(&jobs, &mut found).await;
        found.0
    }

    /// The jobs staged in the outbox (by dedup key and by outbox sort key) and the store's view of
    /// what the worker did (its records are read per expected job, see [`Self::has_job`]).
    async fn staged_or_done(&self) -> HashSet<String> {
        let mut jobs = self.dispatched.clone();
        for item in self.all(Query::partition(None, "OUTBOX")).await {
            if let Some(sort_key) = text(&item, "sk") {
                jobs.insert(sort_key.to_owned());
            }
            if let Some(Ok(Work::Notice(job))) = text(&item, "body").map(Work::from_body) {
                jobs.insert(job.dedup_key());
            }
        }
        jobs
    }

    /// Whether one of the jobs `dedup_keys` names is staged, dispatched or done.
    async fn has_job(&self, jobs: &HashSet<String>, dedup_keys: &[String]) -> bool {
        for dedup_key in dedup_keys {
            if jobs.contains(dedup_key) || self.exists(&format!("JOB#{dedup_key}"), "JOB").await {
                return true;
            }
        }
        false
    }

    async fn check_bookings(&self, jobs: &HashSet<String>, found: &mut Found) {
        let bookings = self
            .all(Query::partition(Some(Index::Gsi3), "BOOKINGS"))
            .await;
        let by_id: HashMap<&str, &Item> = bookings
            .iter()
            .filter_map(|booking| Some((text(booking, "id")?, booking)))
            .collect();
        self.check_seats(&bookings, found).await;
        self.check_holds(&bookings, found).await;
        for booking in &bookings {
            self.check_payment(booking, jobs, found).await;
            self.check_booking_jobs(booking, jobs, found).await;
        }
        if let Some(ledger) = self.ledger {
            for key in ledger.keys() {
                if !by_id.contains_key(key.as_str()) {
                    found.add(format!(
                        "the provider charged or refunded under {key}, which names no booking"
                    ));
                }
            }
        }
    }

    /// Seats and booking counts of every booked flight, and of the flights departing on the same
    /// days.
    async fn check_seats(&self, bookings: &[Item], found: &mut Found) {
        let mut held: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for booking in bookings {
            let Some(flight) = text(booking, "flightId") else {
                found.add(format!("booking {} names no flight", id_of(booking)));
                continue;
            };
            let entry = held.entry(flight.to_owned()).or_default();
            entry.1 += 1;
            if matches!(text(booking, "status"), Some("pending" | "confirmed")) {
                entry.0 += number(booking, "seats");
            }
        }
        let mut flights: BTreeMap<String, Item> = BTreeMap::new();
        for id in held.keys() {
            match self.get(&format!("FLIGHT#{id}"), "FLIGHT").await {
                Some(flight) => {
                    flights.insert(id.clone(), flight);
                }
                None => found.add(format!("flight {id} has bookings but does not exist")),
            }
        }
        let days: BTreeSet<String> = flights
            .values()
            .filter_map(|flight| text(flight, "gsi3pk").map(str::to_owned))
            .collect();
        for day in days {
            for flight in self.all(Query::partition(Some(Index::Gsi3), day)).await {
                if let Some(id) = text(&flight, "id") {
                    flights.entry(id.to_owned()).or_insert(flight);
                }
            }
        }
        for (id, flight) in &flights {
            let (seats_held, count) = held.get(id).copied().unwrap_or_default();
            let total = number(flight, "totalSeats");
            let remaining = number(flight, "remainingSeats");
            if remaining != total - seats_held {
                found.add(format!(
                    "flight {id}: remainingSeats is {remaining}, but {total} seats less the \
                     {seats_held} its pending and confirmed bookings hold is {}",
                    total - seats_held
                ));
            }
            let booking_count = number(flight, "bookingCount");
            if booking_count != count {
                found.add(format!(
                    "flight {id}: bookingCount is {booking_count}, but it has {count} bookings"
                ));
            }
        }
    }

    /// The expiry markers and each customer's markers and count of pending bookings.
    async fn check_holds(&self, bookings: &[Item], found: &mut Found) {
        let pending: Vec<&Item> = bookings
            .iter()
            .filter(|booking| text(booking, "status") == Some("pending"))
            .collect();
        let mut expected = BTreeSet::new();
        for booking in &pending {
            match text(booking, "holdExpiresAt").and_then(parse_time) {
                Some(until) => {
                    expected.insert(format!(
                        "{:013}#{}",
                        until.timestamp_millis().max(0),
                        id_of(booking)
                    ));
                }
                None => found.add(format!(
                    "pending booking {} has no holdExpiresAt",
                    id_of(booking)
                )),
            }
        }
        let markers: BTreeSet<String> = self
            .all(Query::partition(None, "HOLDS"))
            .await
            .iter()
            .filter_map(|marker| text(marker, "sk").map(str::to_owned))
            .collect();
        for missing in expected.difference(&markers) {
            found.add(format!(
                "HOLDS has no marker {missing} of a pending booking"
            ));
        }
        for stray in markers.difference(&expected) {
            found.add(format!(
                "HOLDS marker {stray} names no pending booking held until then"
            ));
        }

        let mut by_user: BTreeMap<&str, BTreeMap<String, String>> = BTreeMap::new();
        for booking in bookings {
            let Some(user) = text(booking, "userId") else {
                continue;
            };
            let flights = by_user.entry(user).or_default();
            if text(booking, "status") == Some("pending") {
                let flight = text(booking, "flightId").unwrap_or_default();
                if let Some(other) = flights.insert(format!("FLIGHT#{flight}"), id_of(booking)) {
                    found.add(format!(
                        "user {user} holds two pending bookings on flight {flight}: {other} and {}",
                        id_of(booking)
                    ));
                }
            }
        }
        for (user, flights) in by_user {
            let partition = self
                .all(Query::partition(None, format!("USER_HOLDS#{user}")))
                .await;
            let mut markers = BTreeMap::new();
            let mut counted = 0;
            for item in &partition {
                match text(item, "sk") {
                    Some("PENDING") => counted = number(item, "pending"),
                    Some(sort_key) => {
                        let booking = text(item, "bookingId").unwrap_or_default();
                        markers.insert(sort_key.to_owned(), booking.to_owned());
                    }
                    None => {}
                }
            }
            if markers != flights {
                found.add(format!(
                    "user {user}: flight markers {markers:?}, but pending bookings {flights:?}"
                ));
            }
            let pending = i64::try_from(flights.len()).unwrap_or(i64::MAX);
            if counted != pending {
                found.add(format!(
                    "user {user}: the pending count is {counted}, but {pending} bookings are \
                     pending"
                ));
            }
        }
    }

    /// The payment record, the open intents' tasks, and the provider's books of one booking.
    async fn check_payment(&self, booking: &Item, jobs: &HashSet<String>, found: &mut Found) {
        let id = id_of(booking);
        let status = text(booking, "status").unwrap_or_default();
        let payment_id = text(booking, "paymentId");
        let record = self.get(&format!("BOOKING#{id}"), "PAYMENT").await;
        match (payment_id, &record) {
            (Some(paid), Some(record)) if text(record, "paymentId") != Some(paid) => {
                found.add(format!(
                    "booking {id}: paid by {paid}, but its PAYMENT record names {:?}",
                    text(record, "paymentId")
                ))
            }
            (Some(paid), None) => found.add(format!(
                "booking {id}: paid by {paid}, but it has no PAYMENT record"
            )),
            (None, Some(_)) => found.add(format!(
                "booking {id} ({status}) has a PAYMENT record but no paymentId"
            )),
            _ => {}
        }
        if status == "confirmed" && payment_id.is_none() {
            found.add(format!("booking {id} is confirmed without a payment"));
        }
        if status == "confirmed" && booking.contains_key("chargeVoid") {
            found.add(format!(
                "booking {id} is confirmed, but its charge was voided"
            ));
        }
        if matches!(status, "pending" | "expired") && payment_id.is_some() {
            found.add(format!("booking {id} is {status} but names a payment"));
        }
        let intents = [
            ("paymentIntent", "the charge"),
            ("refundIntent", "the refund"),
        ];
        let mut open = false;
        for (attribute, what) in intents {
            if let Some(intent) = text(booking, attribute) {
                open = true;
                if !jobs.contains(intent) {
                    found.add(format!(
                        "booking {id}: {what} intended under {intent} has no settling task staged \
                         or dispatched"
                    ));
                }
            }
        }
        let Some(ledger) = self.ledger else {
            return;
        };
        let entry = ledger.entry(&id);
        if entry.charges > 1 {
            found.add(format!("booking {id} was charged {} times", entry.charges));
        }
        if entry.refunds > entry.charges {
            found.add(format!("booking {id} was refunded without a charge"));
        }
        let kept = i64::from(entry.charges) - i64::from(entry.refunds);
        let expected = match status {
            "confirmed" => 1..=1,
            _ if open => 0..=1,
            _ => 0..=0,
        };
        if !expected.contains(&kept) {
            found.add(format!(
                "booking {id} ({status}) kept {kept} charge(s) at the provider, expected {expected:?}"
            ));
        }
        if text(booking, "refundedAt").is_some() && entry.refunds != 1 {
            found.add(format!(
                "booking {id} records a refund the provider did not make"
            ));
        }
    }

    /// The notices of a booking's changes are staged, dispatched or done.
    async fn check_booking_jobs(&self, booking: &Item, jobs: &HashSet<String>, found: &mut Found) {
        let id = id_of(booking);
        let status = text(booking, "status").unwrap_or_default();
        let mut due: Vec<Vec<String>> = Vec::new();
        if text(booking, "paymentId").is_some() {
            due.push(vec![format!("booking-confirmed#{id}")]);
        }
        match status {
            "cancelled" => due.push(vec![
                format!("booking-cancelled#{id}"),
                format!("flight-cancelled#{id}"),
            ]),
            "expired" => due.push(vec![format!("booking-expired#{id}")]),
            _ => {}
        }
        for keys in due {
            if !self.has_job(jobs, &keys).await {
                found.add(format!(
                    "booking {id} ({status}): no job {} is staged, dispatched or done",
                    keys.join(" or ")
                ));
            }
        }
    }

    async fn check_contracts(&self, jobs: &HashSet<String>, found: &mut Found) {
        let contracts = self
            .all(Query::partition(Some(Index::Gsi3), "CONTRACTS"))
            .await;
        let by_id: HashMap<String, &Item> = contracts
            .iter()
            .map(|contract| (id_of(contract), contract))
            .collect();

        let mut cars = self.ids_listed_in("CARS").await;
        let mut customers = self.ids_listed_in("CUSTOMERS").await;
        for contract in &contracts {
            cars.extend(text(contract, "carId").map(str::to_owned));
            customers.extend(text(contract, "customerId").map(str::to_owned));
        }

        // Day slots, both ways: every slot names a live contract of its car covering its day,
        // and every live contract owns each day of its period.
        let mut owned: HashMap<String, BTreeSet<NaiveDate>> = HashMap::new();
        for car in &cars {
            let mut slots = Query::partition(None, format!("CAR#{car}"));
            slots.sort = Some(SortCondition::BeginsWith("DAY#".into()));
            for slot in self.all(slots).await {
                let day = text(&slot, "sk")
                    .and_then(|sk| sk.strip_prefix("DAY#"))
                    .and_then(parse_day);
                let holder = text(&slot, "contractId").unwrap_or_default();
                let Some(day) = day else {
                    found.add(format!(
                        "car {car}: a slot {:?} is no day",
                        text(&slot, "sk")
                    ));
                    continue;
                };
                let Some(contract) = by_id.get(holder) else {
                    found.add(format!(
                        "car {car}: the slot of {day} names {holder:?}, which is no contract"
                    ));
                    continue;
                };
                let status = text(contract, "status").unwrap_or_default();
                if text(contract, "carId") != Some(car.as_str()) {
                    found.add(format!(
                        "car {car}: the slot of {day} names contract {holder} of another car"
                    ));
                } else if status == "cancelled" {
                    found.add(format!(
                        "car {car}: the slot of {day} is still owned by cancelled contract {holder}"
                    ));
                } else if !may_own(contract, day) {
                    found.add(format!(
                        "car {car}: contract {holder} owns the slot of {day}, outside its days"
                    ));
                }
                owned.entry(holder.to_owned()).or_default().insert(day);
            }
        }

        let mut live_per_car: HashMap<&str, i64> = HashMap::new();
        let mut active_per_car: HashMap<&str, i64> = HashMap::new();
        let mut open_per_customer: HashMap<&str, i64> = HashMap::new();
        for contract in &contracts {
            let id = id_of(contract);
            let status = text(contract, "status").unwrap_or_default();
            let car = text(contract, "carId").unwrap_or_default();
            let customer = text(contract, "customerId").unwrap_or_default();
            if status != "cancelled" {
                *live_per_car.entry(car).or_default() += 1;
                let days = owned.get(&id).cloned().unwrap_or_default();
                for day in period(contract) {
                    if !days.contains(&day) {
                        found.add(format!(
                            "contract {id} ({status}) does not own the slot of {day}"
                        ));
                    }
                }
            }
            if status == "active" {
                *active_per_car.entry(car).or_default() += 1;
            }
            if matches!(status, "reserved" | "active") {
                *open_per_customer.entry(customer).or_default() += 1;
            }
            if !self
                .has_job(jobs, &[format!("contract-reserved#{id}")])
                .await
            {
                found.add(format!(
                    "contract {id}: its contract-reserved job is not staged, dispatched or done"
                ));
            }
        }

        for car_id in &cars {
            let Some(car) = self.get(&format!("CAR#{car_id}"), "CAR").await else {
                found.add(format!("car {car_id} has contracts but does not exist"));
                continue;
            };
            let live = live_per_car.get(car_id.as_str()).copied().unwrap_or(0);
            let count = number(&car, "contractCount");
            if count != live {
                found.add(format!(
                    "car {car_id}: contractCount is {count}, but {live} of its contracts are not \
                     cancelled"
                ));
            }
            let active = active_per_car.get(car_id.as_str()).copied().unwrap_or(0);
            let rented = text(&car, "status") == Some("rented");
            if active > 1 || rented != (active == 1) {
                found.add(format!(
                    "car {car_id} is {:?} with {active} active contract(s)",
                    text(&car, "status")
                ));
            }
        }
        for customer_id in &customers {
            let Some(customer) = self
                .get(&format!("CUSTOMER#{customer_id}"), "CUSTOMER")
                .await
            else {
                found.add(format!(
                    "customer {customer_id} has contracts but does not exist"
                ));
                continue;
            };
            let open = open_per_customer
                .get(customer_id.as_str())
                .copied()
                .unwrap_or(0);
            let count = number(&customer, "openContracts");
            if count != open {
                found.add(format!(
                    "customer {customer_id}: openContracts is {count}, but {open} of their \
                     contracts are reserved or active"
                ));
            }
        }
    }

    /// The ids of the entities a `gsi1` list partition holds (`CARS`, `CUSTOMERS`).
    async fn ids_listed_in(&self, list: &str) -> BTreeSet<String> {
        self.all(Query::partition(Some(Index::Gsi1), list))
            .await
            .iter()
            .filter_map(|entity| text(entity, "id").map(str::to_owned))
            .collect()
    }

    /// Every item of a partition, page after page; a read that fails is a failed check, not a
    /// silently empty one.
    async fn all(&self, query: Query) -> Vec<Item> {
        let partition = query.partition.clone();
        query_all(self.store, query)
            .await
            .unwrap_or_else(|error| panic!("reading {partition} to check it: {error:?}"))
    }

    async fn get(&self, pk: &str, sk: &str) -> Option<Item> {
        self.store
            .get(&Key::new(pk, sk))
            .await
            .unwrap_or_else(|error| panic!("reading {pk}|{sk} to check it: {error:?}"))
    }

    async fn exists(&self, pk: &str, sk: &str) -> bool {
        self.get(pk, sk).await.is_some()
    }
}

/// The violations found so far.
#[derive(Default)]
struct Found(Vec<String>);

impl Found {
    fn add(&mut self, violation: String) {
        self.0.push(violation);
    }
}

fn text<'i>(item: &'i Item, attribute: &str) -> Option<&'i str> {
    item.get(attribute).and_then(Value::as_str)
}

/// A numeric attribute; a missing one counts as 0, as DynamoDB's `ADD` does.
fn number(item: &Item, attribute: &str) -> i64 {
    item.get(attribute).and_then(Value::as_i64).unwrap_or(0)
}

fn id_of(item: &Item) -> String {
    text(item, "id").unwrap_or("<no id>").to_owned()
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.to_utc())
}

fn parse_day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// The days a contract's period covers, first to last.
fn period(contract: &Item) -> Vec<NaiveDate> {
    let first = text(contract, "startDate").and_then(parse_day);
    let last = text(contract, "endDate").and_then(parse_day);
    match (first, last) {
        (Some(first), Some(last)) => first.iter_days().take_while(|day| *day <= last).collect(),
        _ => Vec::new(),
    }
}

/// Whether `contract` may own the slot of `day`: a day of its period, or for a returned
/// contract one of the late days after it.
fn may_own(contract: &Item, day: NaiveDate) -> bool {
    let first = text(contract, "startDate").and_then(parse_day);
    let last = text(contract, "endDate").and_then(parse_day);
    let (Some(first), Some(last)) = (first, last) else {
        return false;
    };
    let late = number(contract, "lateDays");
    first <= day && day <= last + TimeDelta::days(late)
}
