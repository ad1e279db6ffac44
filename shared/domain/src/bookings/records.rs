//! How bookings are stored: keys, index attributes, the item layout, the hold markers the expiry
//! job finds due holds by, and the operations that move a booking between states (see
//! docs/data-model.md).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::model::{Booking, BookingId, BookingStatus, FlightSummary, Seats};
use crate::entity::EntityKind;
use crate::flights::{self, Flight, FlightId};
use crate::identity::UserId;
use crate::money::Money;
use crate::payments::{Payment, PaymentId};
use crate::storage::{
    self, Comparison, Condition, Delete, Index, Item, Key, Put, StoreError, Update,
    VERSION_ATTRIBUTE, WriteOp, to_item,
};

/// The entity type stored items and audit entries name bookings by.
pub(crate) const ENTITY: EntityKind = EntityKind::Booking;
/// The index listing one user's bookings.
pub(crate) const USER_INDEX: Index = Index::Gsi1;
/// The index listing one flight's bookings.
pub(crate) const FLIGHT_INDEX: Index = Index::Gsi2;
/// The index listing every booking.
pub(crate) const ALL_INDEX: Index = Index::Gsi3;
/// The partition of [`ALL_INDEX`] that holds every booking.
pub(crate) const ALL_BOOKINGS: &str = "BOOKINGS";
/// The table partition of the hold markers, sorted by hold expiry.
pub(crate) const HOLDS: &str = "HOLDS";

const STATUS: &str = "status";
const HOLD_EXPIRES_AT: &str = "holdExpiresAt";
/// The flight item's fare attributes (its layout is in `flights::records`), which a booking's
/// seat condition names.
const FLIGHT_PRICE_AMOUNT: &str = "priceAmount";
const FLIGHT_PRICE_CURRENCY: &str = "priceCurrency";
/// The attribute of a customer's counter item holding how many of their bookings are pending.
const PENDING_COUNT: &str = "pending";

pub(crate) fn key(id: &BookingId) -> Key {
    Key::new(format!("BOOKING#{id}"), "BOOKING")
}

/// The payment record of a booking lives next to it.
pub(crate) fn payment_key(id: &BookingId) -> Key {
    Key::new(format!("BOOKING#{id}"), "PAYMENT")
}

pub(crate) fn user_partition(user: &UserId) -> String {
    format!("USER_BOOKINGS#{user}")
}

pub(crate) fn flight_partition(flight: &FlightId) -> String {
    format!("FLIGHT_BOOKINGS#{flight}")
}

/// A timestamp as every booking attribute and sort key holds it: RFC 3339, milliseconds, `Z`, so
/// that string order is time order.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Index sort key: creation time, then id, so that lists come out in creation order.
fn list_sort_key(booking: &Booking) -> String {
    format!("{}#{}", timestamp(booking.created_at), booking.id)
}

/// The key of a pending booking's hold marker: the expiry in epoch milliseconds, zero-padded so
/// that string order is time order, then the booking id.
pub(crate) fn hold_key(id: &BookingId, hold_expires_at: DateTime<Utc>) -> Key {
    Key::new(
        HOLDS,
        format!("{:013}#{id}", hold_expires_at.timestamp_millis().max(0)),
    )
}

/// The greatest hold-marker sort key due at `now`: every marker whose expiry is `now` or earlier
/// sorts at or before it (`~` sorts after every id character).
pub(crate) fn holds_due_until(now: DateTime<Utc>) -> String {
    format!("{:013}#~", now.timestamp_millis().max(0))
}

/// Timestamps in the one format conditions compare as strings ([`timestamp`]).
mod millis {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(at: &DateTime<Utc>, to: S) -> Result<S::Ok, S::Error> {
        to.serialize_str(&super::timestamp(*at))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        from: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        DateTime::<Utc>::deserialize(from)
    }

    pub(super) mod option {
        use chrono::{DateTime, Utc};
        use serde::{Deserialize, Deserializer, Serializer};

        pub(in super::super) fn serialize<S: Serializer>(
            at: &Option<DateTime<Utc>>,
            to: S,
        ) -> Result<S::Ok, S::Error> {
            match at {
                Some(at) => super::serialize(at, to),
                None => to.serialize_none(),
            }
        }

        pub(in super::super) fn deserialize<'de, D: Deserializer<'de>>(
            from: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            Option::<DateTime<Utc>>::deserialize(from)
        }
    }
}

/// The stored form of a booking.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BookingRecord {
    pk: String,
    sk: String,
    gsi1pk: String,
    gsi1sk: String,
    gsi2pk: String,
    gsi2sk: String,
    gsi3pk: String,
    gsi3sk: String,
    entity: EntityKind,
    id: BookingId,
    flight_id: FlightId,
    user_id: UserId,
    seats: Seats,
    total: Money,
    status: BookingStatus,
    #[serde(
        default,
        with = "millis::option",
        skip_serializing_if = "Option::is_none"
    )]
    hold_expires_at: Option<DateTime<Utc>>,
    #[serde(with = "millis")]
    created_at: DateTime<Utc>,
    #[serde(with = "millis")]
    updated_at: DateTime<Utc>,
    #[serde(
        default,
        with = "millis::option",
        skip_serializing_if = "Option::is_none"
    )]
    confirmed_at: Option<DateTime<Utc>>,
    #[serde(
        default,
        with = "millis::option",
        skip_serializing_if = "Option::is_none"
    )]
    cancelled_at: Option<DateTime<Utc>>,
    #[serde(
        default,
        with = "millis::option",
        skip_serializing_if = "Option::is_none"
    )]
    expired_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refund: Option<Money>,
    #[serde(
        default,
        with = "millis::option",
        skip_serializing_if = "Option::is_none"
    )]
    refunded_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    payment_id: Option<PaymentId>,
    flight: FlightSummary,
}

/// The item of a new booking.
pub(crate) fn new_item(booking: &Booking) -> Result<Item, StoreError> {
    let key = key(&booking.id);
    let sort_key = list_sort_key(booking);
    to_item(&BookingRecord {
        pk: key.pk,
        sk: key.sk,
        gsi1pk: user_partition(&booking.user_id),
        gsi1sk: sort_key.clone(),
        gsi2pk: flight_partition(&booking.flight_id),
        gsi2sk: sort_key.clone(),
        gsi3pk: ALL_BOOKINGS.to_owned(),
        gsi3sk: sort_key,
        entity: ENTITY,
        id: booking.id.clone(),
        flight_id: booking.flight_id.clone(),
        user_id: booking.user_id.clone(),
        seats: booking.seats,
        total: booking.total.clone(),
        status: booking.status,
        hold_expires_at: booking.hold_expires_at,
        created_at: booking.created_at,
        updated_at: booking.updated_at,
        confirmed_at: booking.confirmed_at,
        cancelled_at: booking.cancelled_at,
        expired_at: booking.expired_at,
        refund: booking.refund.clone(),
        refunded_at: booking.refunded_at,
        payment_id: booking.payment_id.clone(),
        flight: booking.flight.clone(),
    })
}

crate::entity::stored_entity!(Booking, ENTITY, from_item);

/// Reads a booking back; an item that does not decode is corrupt data, not a caller's mistake.
pub(crate) fn from_item(item: Item) -> Result<Booking, StoreError> {
    let record: BookingRecord = storage::from_item(item)?;
    Ok(Booking {
        id: record.id,
        flight_id: record.flight_id,
        user_id: record.user_id,
        seats: record.seats,
        total: record.total,
        status: record.status,
        hold_expires_at: record.hold_expires_at,
        created_at: record.created_at,
        updated_at: record.updated_at,
        confirmed_at: record.confirmed_at,
        cancelled_at: record.cancelled_at,
        expired_at: record.expired_at,
        refund: record.refund,
        refunded_at: record.refunded_at,
        payment_id: record.payment_id,
        flight: record.flight,
    })
}

/// The booking's public fields as a JSON object, as the API shows them: the response body of a
/// creation, and what audit entries record as `before` and `after`.
pub(crate) fn view(booking: &Booking) -> Result<Map<String, Value>, StoreError> {
    to_item(booking)
}

/// The marker that makes a pending booking findable by its hold expiry.
pub(crate) fn put_hold(booking: &Booking, hold_expires_at: DateTime<Utc>) -> WriteOp {
    let mut item = Item::new();
    hold_key(&booking.id, hold_expires_at).write_into(&mut item);
    item.insert("entity".into(), Value::from(EntityKind::BookingHold));
    item.insert("bookingId".into(), Value::from(booking.id.to_string()));
    item.insert(
        HOLD_EXPIRES_AT.into(),
        Value::from(timestamp(hold_expires_at)),
    );
    WriteOp::Put(Put {
        item,
        condition: Some(Condition::ItemNotExists),
    })
}

/// Releases everything a pending booking holds besides its seats, when it stops being pending
/// (paid, cancelled or expired): its expiry marker, its customer's marker on its flight, and its
/// slot in its customer's count of pending bookings. Nothing for a booking that was not pending.
///
/// Every caller puts these operations in the transaction that moves the booking out of `pending`,
/// conditioned on the status it read, so of racing transitions only one commits and the slot is
/// given back exactly once.
pub(crate) fn delete_hold(booking: &Booking) -> Vec<WriteOp> {
    let Some(at) = booking.hold_expires_at else {
        return Vec::new();
    };
    let mut uncount = Update::new(pending_counter_key(&booking.user_id));
    uncount.add.push((PENDING_COUNT.into(), -1));
    vec![
        WriteOp::Delete(Delete {
            key: hold_key(&booking.id, at),
            condition: None,
        }),
        WriteOp::Delete(Delete {
            key: flight_hold_key(&booking.user_id, &booking.flight_id),
            condition: None,
        }),
        WriteOp::Update(uncount),
    ]
}

/// The partition of one customer's open holds: a marker per flight on which they hold a pending
/// booking, and the counter of their pending bookings.
fn customer_holds_partition(user: &UserId) -> String {
    format!("USER_HOLDS#{user}")
}

/// The marker of `user`'s pending booking on `flight`; while it exists they may not book that
/// flight again.
pub(crate) fn flight_hold_key(user: &UserId, flight: &FlightId) -> Key {
    Key::new(customer_holds_partition(user), format!("FLIGHT#{flight}"))
}

/// The counter of `user`'s pending bookings, over all flights.
pub(crate) fn pending_counter_key(user: &UserId) -> Key {
    Key::new(customer_holds_partition(user), "PENDING")
}

/// The marker that makes `booking` its customer's one pending booking on its flight. Its condition
/// fails while another pending booking of theirs on the flight has its marker, and the marker names
/// that booking so the refusal can.
pub(crate) fn put_flight_hold(booking: &Booking) -> WriteOp {
    let mut item = Item::new();
    flight_hold_key(&booking.user_id, &booking.flight_id).write_into(&mut item);
    item.insert("entity".into(), Value::from(EntityKind::CustomerFlightHold));
    item.insert("bookingId".into(), Value::from(booking.id.to_string()));
    WriteOp::Put(Put {
        item,
        condition: Some(Condition::ItemNotExists),
    })
}

/// How many pending bookings a customer's counter item says they hold; `None` when they never had
/// one (no counter item yet).
pub(crate) fn pending_count(counter: Option<&Item>) -> Option<i64> {
    counter.map(|item| {
        item.get(PENDING_COUNT)
            .and_then(Value::as_i64)
            .unwrap_or_default()
    })
}

/// Counts one more pending booking for `user`, only while they hold fewer than `max`. The counter
/// item is created by the first booking; `seen` is what the caller read (`None`: no item yet), and
/// decides the condition, because a missing attribute fails every comparison: with no item the
/// condition is that there still is none (a concurrent first booking makes the caller read again).
pub(crate) fn count_pending(user: &UserId, seen: Option<i64>, max: u32) -> WriteOp {
    let mut update = Update::new(pending_counter_key(user));
    update.set.push((
        "entity".into(),
        Value::from(EntityKind::PendingBookingCount),
    ));
    update.add.push((PENDING_COUNT.into(), 1));
    update.condition = Some(match seen {
        Some(_) => Condition::compare(PENDING_COUNT, Comparison::Less, max),
        None => Condition::ItemNotExists,
    });
    WriteOp::Update(update)
}

/// The booking a hold marker (or a customer's marker on a flight) points at.
pub(crate) fn hold_booking_id(marker: &Item) -> Option<BookingId> {
    marker
        .get("bookingId")
        .and_then(Value::as_str)
        .and_then(BookingId::parse)
}

/// The record of the charge that paid a booking.
pub(crate) fn put_payment(booking: &BookingId, payment: &Payment) -> WriteOp {
    let mut item = Item::new();
    payment_key(booking).write_into(&mut item);
    item.insert("entity".into(), Value::from(EntityKind::Payment));
    item.insert("bookingId".into(), Value::from(booking.to_string()));
    item.insert("paymentId".into(), Value::from(payment.id.to_string()));
    item.insert("amount".into(), Value::from(&payment.amount));
    item.insert(
        "chargedAt".into(),
        Value::from(timestamp(payment.charged_at)),
    );
    WriteOp::Put(Put {
        item,
        condition: Some(Condition::ItemNotExists),
    })
}

/// The update that moves `current` to `changed`: the status, its timestamps and the refund,
/// guarded by `guard`. Only those attributes are written, never the whole item.
pub(crate) fn transition(current: &Booking, changed: &Booking, guard: Condition) -> WriteOp {
    let mut update = Update::new(key(&current.id));
    update
        .set
        .push((STATUS.into(), Value::from(changed.status.as_str())));
    update.set.push((
        "updatedAt".into(),
        Value::from(timestamp(changed.updated_at)),
    ));
    let timestamps = [
        ("confirmedAt", changed.confirmed_at),
        ("cancelledAt", changed.cancelled_at),
        ("expiredAt", changed.expired_at),
        ("refundedAt", changed.refunded_at),
    ];
    for (name, at) in timestamps {
        if let Some(at) = at {
            update.set.push((name.into(), Value::from(timestamp(at))));
        }
    }
    if let Some(refund) = &changed.refund {
        update.set.push(("refund".into(), Value::from(refund)));
    }
    if let Some(payment) = &changed.payment_id {
        update
            .set
            .push(("paymentId".into(), Value::from(payment.to_string())));
    }
    if changed.hold_expires_at.is_none() && current.hold_expires_at.is_some() {
        update.remove.push(HOLD_EXPIRES_AT.into());
    }
    update.condition = Some(guard);
    WriteOp::Update(update)
}

/// The booking is still in the status it was read in.
pub(crate) fn status_is(status: BookingStatus) -> Condition {
    Condition::compare(STATUS, Comparison::Equal, status.as_str())
}

/// The booking is pending and its hold has not lapsed at `now`.
pub(crate) fn pending_and_held_at(now: DateTime<Utc>) -> Condition {
    Condition::And(vec![
        status_is(BookingStatus::Pending),
        Condition::compare(HOLD_EXPIRES_AT, Comparison::Greater, timestamp(now)),
    ])
}

/// Takes `seats` from `flight`, only while it is scheduled, has them, and still sells them at the
/// price read: the one operation that makes overselling impossible, whatever the concurrency, and
/// that makes a booking's total the fare its seats were taken at.
///
/// The condition names the price itself, not the flight's version: the version also moves every
/// time seats are taken or given back, so conditioning on it would turn every concurrent booking
/// of the flight into a retry, while the price moves only when staff change it.
pub(crate) fn take_seats(flight: &Flight, seats: Seats) -> WriteOp {
    let mut update = Update::new(flights::flight_key(&flight.id));
    update.add = vec![
        (flights::REMAINING_SEATS.into(), -i64::from(seats.get())),
        (flights::BOOKING_COUNT.into(), 1),
        (VERSION_ATTRIBUTE.into(), 1),
    ];
    update.condition = Some(Condition::And(vec![
        Condition::compare(
            flights::REMAINING_SEATS,
            Comparison::GreaterOrEqual,
            seats.get(),
        ),
        Condition::compare(
            flights::STATUS,
            Comparison::Equal,
            flights::FlightStatus::Scheduled.as_str(),
        ),
        Condition::compare(
            FLIGHT_PRICE_AMOUNT,
            Comparison::Equal,
            flight.price.amount(),
        ),
        Condition::compare(
            FLIGHT_PRICE_CURRENCY,
            Comparison::Equal,
            flight.price.currency().to_string(),
        ),
    ]));
    WriteOp::Update(update)
}

/// Gives `seats` back to the flight. The flight's version moves too: its `ETag` covers the seats.
pub(crate) fn return_seats(flight: &FlightId, seats: Seats) -> WriteOp {
    let mut update = Update::new(flights::flight_key(flight));
    update.add = vec![
        (flights::REMAINING_SEATS.into(), i64::from(seats.get())),
        (VERSION_ATTRIBUTE.into(), 1),
    ];
    // Never create a flight item from nothing.
    update.condition = Some(Condition::ItemExists);
    WriteOp::Update(update)
}

/// The attribute of a booking holding the outbox key of the `SettleCharge` task of a charge that
/// was intended and is not settled yet: present from before the provider is asked to charge until
/// the charge confirmed the booking, was refunded, or proved never to have happened.
pub(crate) const PAYMENT_INTENT: &str = "paymentIntent";
/// The attribute of a cancelled booking holding the outbox key of the `SettleRefund` task of the
/// refund it is owed: present from the cancellation until the provider refunded.
pub(crate) const REFUND_INTENT: &str = "refundIntent";

/// The attribute of a booking whose charge is refunded (or being refunded) without the booking
/// ever being confirmed by it. Set before the refund, never removed: the provider answers every
/// later charge under the booking's id with that same refunded charge, so such a booking must
/// never be confirmed.
pub(crate) const CHARGE_VOID: &str = "chargeVoid";

/// The money movements a booking has recorded and not settled, as the outbox keys of the tasks
/// that settle them, and whether its charge is void.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Intents {
    pub payment: Option<String>,
    pub refund: Option<String>,
    pub void: bool,
}

/// The open intents recorded on a booking's item.
pub(crate) fn intents(item: &Item) -> Intents {
    let text = |name: &str| item.get(name).and_then(Value::as_str).map(str::to_owned);
    Intents {
        payment: text(PAYMENT_INTENT),
        refund: text(REFUND_INTENT),
        void: item.contains_key(CHARGE_VOID),
    }
}

/// Voids a booking's charge before refunding it: on condition that the booking is not confirmed,
/// and from then on it cannot be ([`charge_not_void`]).
pub(crate) fn void_charge(id: &BookingId, at: DateTime<Utc>) -> Update {
    let mut update = Update::new(key(id));
    update
        .set
        .push((CHARGE_VOID.into(), Value::from(timestamp(at))));
    update.condition = Some(Condition::compare(
        STATUS,
        Comparison::NotEqual,
        BookingStatus::Confirmed.as_str(),
    ));
    update
}

/// The booking's charge has not been voided: what charging and confirming it require.
pub(crate) fn charge_not_void() -> Condition {
    Condition::AttributeNotExists(CHARGE_VOID.into())
}

/// Records the intent to charge a booking: on condition that it is pending, held at `now`, and
/// has no charge intent open already.
pub(crate) fn open_payment_intent(id: &BookingId, intent: &str, now: DateTime<Utc>) -> WriteOp {
    let mut update = Update::new(key(id));
    update
        .set
        .push((PAYMENT_INTENT.into(), Value::from(intent.to_owned())));
    update.condition = Some(Condition::And(vec![
        pending_and_held_at(now),
        Condition::AttributeNotExists(PAYMENT_INTENT.into()),
        charge_not_void(),
    ]));
    WriteOp::Update(update)
}

/// Makes a booking transition settle the open intent `intent` of `attribute` too: the intent is
/// removed, on condition that it is still the one open.
pub(crate) fn settling(transition: WriteOp, attribute: &str, intent: &str) -> WriteOp {
    let WriteOp::Update(mut update) = transition else {
        unreachable!("a booking transition is an update")
    };
    update.remove.push(attribute.into());
    let settled = Condition::compare(attribute, Comparison::Equal, intent.to_owned());
    update.condition = Some(match update.condition.take() {
        Some(Condition::And(mut all)) => {
            all.push(settled);
            Condition::And(all)
        }
        Some(guard) => Condition::And(vec![guard, settled]),
        None => settled,
    });
    WriteOp::Update(update)
}

/// Makes a booking transition open the intent `intent` of `attribute` too, on condition that none
/// is open.
pub(crate) fn opening(transition: WriteOp, attribute: &str, intent: &str) -> WriteOp {
    let WriteOp::Update(mut update) = transition else {
        unreachable!("a booking transition is an update")
    };
    update
        .set
        .push((attribute.into(), Value::from(intent.to_owned())));
    let none_open = Condition::AttributeNotExists(attribute.into());
    update.condition = Some(match update.condition.take() {
        Some(guard) => Condition::And(vec![guard, none_open]),
        None => none_open,
    });
    WriteOp::Update(update)
}

/// Closes the intent `intent` of `attribute` without another change: the charge proved never to
/// have happened, or was refunded.
pub(crate) fn close_intent(id: &BookingId, attribute: &str, intent: &str) -> WriteOp {
    let mut update = Update::new(key(id));
    update.remove.push(attribute.into());
    update.condition = Some(Condition::compare(
        attribute,
        Comparison::Equal,
        intent.to_owned(),
    ));
    WriteOp::Update(update)
}

/// Records on a cancelled booking that the provider refunded it at `at`, settling the refund
/// intent `intent`.
pub(crate) fn record_refund(id: &BookingId, intent: &str, at: DateTime<Utc>) -> WriteOp {
    let mut update = Update::new(key(id));
    update
        .set
        .push(("refundedAt".into(), Value::from(timestamp(at))));
    settling(WriteOp::Update(update), REFUND_INTENT, intent)
}

/// The flight is still scheduled and departs after `now`: what paying for or cancelling one of
/// its bookings requires.
pub(crate) fn flight_bookable_at(now: DateTime<Utc>) -> Condition {
    Condition::And(vec![
        Condition::compare(
            flights::STATUS,
            Comparison::Equal,
            flights::FlightStatus::Scheduled.as_str(),
        ),
        Condition::compare(flights::DEPARTURE_TIME, Comparison::Greater, timestamp(now)),
    ])
}

/// Checks, in a transaction that does not otherwise write the flight, that it is bookable at
/// `now` ([`flight_bookable_at`]).
pub(crate) fn check_flight_bookable(flight: &FlightId, now: DateTime<Utc>) -> WriteOp {
    WriteOp::Check {
        key: flights::flight_key(flight),
        condition: flight_bookable_at(now),
    }
}

/// Gives `seats` back to a flight that is still bookable at `now`: a cancellation by the customer
/// or staff, which must not refund a flight that has left. (A transaction holds one operation per
/// item, so the flight's condition rides on the seats' return.)
pub(crate) fn return_seats_while_bookable(
    flight: &FlightId,
    seats: Seats,
    now: DateTime<Utc>,
) -> WriteOp {
    let WriteOp::Update(mut update) = return_seats(flight, seats) else {
        unreachable!("returning seats is an update")
    };
    update.condition = Some(Condition::And(vec![
        Condition::ItemExists,
        flight_bookable_at(now),
    ]));
    WriteOp::Update(update)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    pub(crate) fn booking() -> Booking {
        let created = at("2026-11-21T08:00:00.123Z");
        Booking {
            id: BookingId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f").unwrap(),
            flight_id: FlightId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e70").unwrap(),
            user_id: UserId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e71").unwrap(),
            seats: Seats::try_from(2).unwrap(),
            total: Money::new(25_000, Currency::parse("INR").unwrap()).unwrap(),
            status: BookingStatus::Pending,
            hold_expires_at: Some(at("2026-11-21T08:10:00.123Z")),
            created_at: created,
            updated_at: created,
            confirmed_at: None,
            cancelled_at: None,
            expired_at: None,
            refund: None,
            refunded_at: None,
            flight: FlightSummary {
                number: "AI101".into(),
                from: "DEL".into(),
                to: "BOM".into(),
                departure_time: at("2026-12-01T06:30:00Z"),
            },
            payment_id: None,
        }
    }

    #[test]
    fn a_booking_survives_the_round_trip_through_its_item() {
        let original = booking();
        assert_eq!(from_item(new_item(&original).unwrap()).unwrap(), original);
        let paid = Booking {
            status: BookingStatus::Cancelled,
            hold_expires_at: None,
            payment_id: Some(PaymentId::new("pay_test_1")),
            refund: Some(original.total.clone()),
            refunded_at: Some(at("2026-11-22T08:00:00Z")),
            ..original
        };
        assert_eq!(from_item(new_item(&paid).unwrap()).unwrap(), paid);
    }

    #[test]
    fn the_item_is_in_the_user_flight_and_all_bookings_indexes() {
        let booking = booking();
        let item = new_item(&booking).unwrap();
        assert_eq!(Key::of(&item).unwrap(), key(&booking.id));
        let sort_key = "2026-11-21T08:00:00.123Z#0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f";
        assert_eq!(
            item["gsi1pk"],
            "USER_BOOKINGS#0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e71"
        );
        assert_eq!(
            item["gsi2pk"],
            "FLIGHT_BOOKINGS#0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e70"
        );
        assert_eq!(item["gsi3pk"], "BOOKINGS");
        for index in ["gsi1sk", "gsi2sk", "gsi3sk"] {
            assert_eq!(item[index], sort_key);
        }
    }

    #[test]
    fn hold_markers_sort_by_expiry_and_the_due_bound_includes_its_millisecond() {
        let booking = booking();
        let due = booking.hold_expires_at.unwrap();
        let marker = hold_key(&booking.id, due);
        assert_eq!(marker.pk, "HOLDS");
        assert_eq!(
            marker.sk,
            "1795248600123#0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f"
        );
        assert!(marker.sk.as_str() <= holds_due_until(due).as_str());
        let just_before = due - chrono::TimeDelta::milliseconds(1);
        assert!(marker.sk.as_str() > holds_due_until(just_before).as_str());
    }

    #[test]
    fn the_view_holds_the_public_fields_only() {
        let view = view(&booking()).unwrap();
        let mut names: Vec<&str> = view.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "createdAt",
                "flight",
                "flightId",
                "holdExpiresAt",
                "id",
                "seats",
                "status",
                "total",
                "updatedAt",
                "userId"
            ]
        );
        assert_eq!(view["flight"]["departureTime"], "2026-12-01T06:30:00Z");
    }

    #[test]
    fn releasing_a_pending_hold_frees_its_marker_its_flight_marker_and_its_slot() {
        let pending = booking();
        let keys: Vec<Key> = delete_hold(&pending)
            .iter()
            .map(|operation| operation.key().expect("a keyed operation"))
            .collect();
        assert_eq!(
            keys,
            [
                hold_key(&pending.id, pending.hold_expires_at.unwrap()),
                flight_hold_key(&pending.user_id, &pending.flight_id),
                pending_counter_key(&pending.user_id),
            ]
        );
        let Some(WriteOp::Update(uncount)) = delete_hold(&pending).pop() else {
            panic!("the counter is updated");
        };
        assert_eq!(uncount.add, [(PENDING_COUNT.to_owned(), -1)]);
        let confirmed = Booking {
            status: BookingStatus::Confirmed,
            hold_expires_at: None,
            ..pending
        };
        assert!(
            delete_hold(&confirmed).is_empty(),
            "only a pending booking holds a slot"
        );
    }

    #[test]
    fn the_pending_count_is_conditioned_on_the_cap_or_on_there_being_no_counter_yet() {
        let user = booking().user_id;
        let WriteOp::Update(first) = count_pending(&user, None, 3) else {
            panic!("an update");
        };
        assert_eq!(first.condition, Some(Condition::ItemNotExists));
        let WriteOp::Update(next) = count_pending(&user, Some(2), 3) else {
            panic!("an update");
        };
        assert_eq!(
            next.condition,
            Some(Condition::compare(PENDING_COUNT, Comparison::Less, 3))
        );
        assert_eq!(next.add, [(PENDING_COUNT.to_owned(), 1)]);
    }

    #[test]
    fn leaving_pending_removes_the_hold_and_sets_only_what_changed() {
        let current = booking();
        let now = at("2026-11-21T08:05:00Z");
        let changed = Booking {
            status: BookingStatus::Expired,
            hold_expires_at: None,
            expired_at: Some(now),
            updated_at: now,
            ..current.clone()
        };
        let WriteOp::Update(update) =
            transition(&current, &changed, status_is(BookingStatus::Pending))
        else {
            panic!("a transition is an update");
        };
        assert_eq!(update.remove, ["holdExpiresAt"]);
        let names: Vec<&str> = update.set.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["status", "updatedAt", "expiredAt"]);
    }
}
