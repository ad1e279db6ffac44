//! Contract values: the rental period, statuses, fuel level and damages, and the entity.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::{Day, DayRange};
use crate::cars::{CarId, DailyRate, Mileage};
use crate::customers::CustomerId;
use crate::error::DomainError;
use crate::identity::UserId;
use crate::money::Money;

crate::identity::uuid_id!(
    /// A rental contract's identifier.
    ContractId
);

crate::bounded::word_enum!(
    /// Where a contract is in its life: `reserved` (the days are taken, the car not yet picked
    /// up), `active` (picked up), `completed` (returned) or `cancelled` (while reserved; its days
    /// are free again).
    ContractStatus {
        Reserved => "reserved",
        Active => "active",
        Completed => "completed",
        Cancelled => "cancelled",
    }
);

impl ContractStatus {
    /// Whether a contract in this status holds days of its car: every status but `cancelled`.
    pub fn holds_days(self) -> bool {
        self != ContractStatus::Cancelled
    }
}

crate::bounded::bounded_integer!(
    /// How full the tank is on return, in percent: 0 to 100.
    FuelLevel: u8,
    0..=100
);

crate::bounded::bounded_text!(
    /// The damages staff found on return, as they describe them: 1-2000 printable characters.
    Damages,
    2000
);

/// The whole days of a rental, first and last included: a [`DayRange`] of at most
/// [`RentalPeriod::MAX_DAYS`], refused in the contract's own field names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct RentalPeriod(DayRange);

impl RentalPeriod {
    /// The longest rental, in days. Each day is one slot item written in the contract's
    /// transaction, so this bounds the transaction (see docs/data-model.md).
    pub const MAX_DAYS: u32 = 90;

    /// The days `start_date` to `end_date`, refused when the end comes first or the period is
    /// longer than [`Self::MAX_DAYS`].
    pub fn new(start_date: Day, end_date: Day) -> Result<Self, DomainError> {
        let refused = |message: String| DomainError::Invalid {
            field: "endDate",
            message,
        };
        let range = DayRange::new(start_date, end_date)
            .map_err(|_| refused("must not be before startDate".into()))?;
        let range = range.at_most(Self::MAX_DAYS).map_err(|_| {
            refused(format!(
                "must be at most {} days after startDate (first and last day included)",
                Self::MAX_DAYS
            ))
        })?;
        Ok(Self(range))
    }

    pub fn start_date(self) -> Day {
        self.0.start()
    }

    pub fn end_date(self) -> Day {
        self.0.end()
    }

    /// How many days the period has, first and last included.
    pub fn length(self) -> u32 {
        self.0.days()
    }

    /// Every day of the period, in order.
    pub fn days(self) -> impl Iterator<Item = Day> {
        self.0.each_day()
    }

    /// Whether `day` is in the period.
    pub fn contains(self, day: Day) -> bool {
        self.0.contains(day)
    }
}

/// A request to reserve a car: staff name the customer, a customer reserves for their own
/// profile. Serialized whole, it is the idempotency fingerprint of the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reservation {
    pub car_id: CarId,
    /// Required from staff; a customer leaves it out (or names their own profile).
    pub customer_id: Option<CustomerId>,
    pub start_date: Day,
    pub end_date: Day,
}

/// A rental contract: one customer's days with one car, priced at the car's daily rate when it
/// was reserved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contract {
    pub id: ContractId,
    pub car_id: CarId,
    pub customer_id: CustomerId,
    /// The account linked to the customer profile when the contract was made: its owner, who
    /// may read and cancel it, and who is told about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    pub start_date: Day,
    pub end_date: Day,
    pub status: ContractStatus,
    /// The car's rate when the contract was reserved; later rate changes do not reach it.
    pub daily_rate: DailyRate,
    /// `days x dailyRate`: for the period while reserved or active, and for the days the car
    /// was really out (a late return's extra days included) once completed.
    pub total: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_mileage: Option<Mileage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_mileage: Option<Mileage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuel_level: Option<FuelLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub damages: Option<Damages>,
    /// The days after the end date the car was still out (a late return), charged at the rate
    /// snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_days: Option<u32>,
    /// The first overrun day of a late return that another contract held (that contract's
    /// customer needs another car): such days are not taken, and staff see them from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrun_conflict_from: Option<Day>,
    #[serde(skip_serializing)]
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picked_up_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returned_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl Contract {
    /// A new `reserved` contract (version 1, made at `now`) of `car_id` for `customer_id` over
    /// `period`, priced at `daily_rate`: `total = days x rate`.
    pub(crate) fn reserved(
        id: ContractId,
        (car_id, daily_rate): (CarId, DailyRate),
        (customer_id, user_id): (CustomerId, Option<UserId>),
        period: RentalPeriod,
        now: DateTime<Utc>,
    ) -> Result<Self, DomainError> {
        Ok(Self {
            id,
            car_id,
            customer_id,
            user_id,
            start_date: period.start_date(),
            end_date: period.end_date(),
            status: ContractStatus::Reserved,
            total: total_of(&daily_rate, period.length())?,
            daily_rate,
            pickup_mileage: None,
            return_mileage: None,
            fuel_level: None,
            damages: None,
            late_days: None,
            overrun_conflict_from: None,
            version: 1,
            created_at: now,
            updated_at: now,
            picked_up_at: None,
            returned_at: None,
            cancelled_at: None,
        })
    }

    /// The days the contract holds (as stored: its dates were checked when they were set).
    pub fn period(&self) -> RentalPeriod {
        RentalPeriod(DayRange::spanning(self.start_date, self.end_date))
    }
}

/// Staff see every contract; a user, the ones of the customer profile linked to them.
impl crate::entity::Owned for Contract {
    fn visible_to(&self, user: &UserId, staff: bool) -> bool {
        staff || self.user_id.as_ref() == Some(user)
    }
}

/// The price of `days` days at `rate`, or the refusal of a total too large to hold.
pub(crate) fn total_of(rate: &DailyRate, days: u32) -> Result<Money, DomainError> {
    rate.money()
        .times(days)
        .ok_or_else(|| DomainError::Conflict {
            detail: "The total of this rental is too large to be charged.".into(),
        })
}

/// Which contracts a list shows; serialized whole, it is what a list's cursors are bound to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ContractFilter {
    pub customer_id: Option<CustomerId>,
    pub car_id: Option<CarId>,
    pub status: Option<ContractStatus>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Day {
        Day::parse(text).unwrap()
    }

    #[test]
    fn a_period_counts_its_first_and_last_day() {
        let period = RentalPeriod::new(day("2027-02-27"), day("2027-03-01")).unwrap();
        assert_eq!(period.length(), 3);
        let days: Vec<String> = period.days().map(|day| day.to_string()).collect();
        assert_eq!(days, ["2027-02-27", "2027-02-28", "2027-03-01"]);
        assert!(period.contains(day("2027-02-28")));
        assert!(!period.contains(day("2027-03-02")));
        assert_eq!(
            RentalPeriod::new(day("2027-01-01"), day("2027-01-01"))
                .unwrap()
                .length(),
            1
        );
    }

    #[test]
    fn a_period_ends_after_it_starts_and_lasts_at_most_90_days() {
        assert!(matches!(
            RentalPeriod::new(day("2027-01-02"), day("2027-01-01")),
            Err(DomainError::Invalid {
                field: "endDate",
                ..
            })
        ));
        let longest = RentalPeriod::new(day("2027-01-01"), day("2027-03-31")).unwrap();
        assert_eq!(longest.length(), 90);
        assert_eq!(longest.days().count(), 90);
        assert!(RentalPeriod::new(day("2027-01-01"), day("2027-04-01")).is_err());
    }

    #[test]
    fn only_a_cancelled_contract_holds_no_days() {
        let holding: Vec<_> = ContractStatus::ALL
            .iter()
            .filter(|status| status.holds_days())
            .collect();
        assert_eq!(holding.len(), 3);
        assert!(!ContractStatus::Cancelled.holds_days());
    }
}
