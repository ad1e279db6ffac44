//! The catalogue: the cars that can be rented on every day of a range, with their price for it.
//!
//! A page walks the fleet's list index (one category, or all) with the statuses that cannot be
//! rented dropped store-side, and asks each candidate's day slots whether any day of the range is
//! taken (one Query, `Limit 1`). Both walks are bounded per page: at most
//! [`MAX_CANDIDATES_PER_PAGE`] candidates and [`MAX_INDEX_QUERIES`] index Queries, after which the
//! page ends short with a cursor to continue. The cost model is in `docs/data-model.md`.

use serde::Serialize;

use crate::calendar::{Day, DayRange};
use crate::cars::{self, Car, CarCategory, CarId, CarModel, DailyRate, Manufacturer, ModelYear};
use crate::entity::{Page, Stored};
use crate::error::DomainError;
use crate::money::Money;
use crate::pagination::{PageLimit, key_attributes};
use crate::storage::{Item, Store, StoreError};

/// The longest rental, and so the longest range the catalogue prices.
pub const MAX_RENTAL_DAYS: u32 = crate::contracts::RentalPeriod::MAX_DAYS;
/// The most cars one page checks for free days: each costs a Query, so this bounds a request's
/// reads and latency whatever the fleet's size and however booked it is.
pub const MAX_CANDIDATES_PER_PAGE: u32 = 50;
/// The most index Queries one page takes (a run of unrentable cars returns no candidate but
/// costs its reads).
const MAX_INDEX_QUERIES: usize = 5;

/// What the catalogue is asked: the days to rent (from today on, at most
/// [`MAX_RENTAL_DAYS`]) and optionally one category. Serialized whole, it is what a catalogue
/// cursor is bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogueSearch {
    range: DayRange,
    category: Option<CarCategory>,
}

impl CatalogueSearch {
    /// The search for cars free from `from` to `to` (both included), when `from` is not before
    /// `today`, `to` not before `from`, and the range at most [`MAX_RENTAL_DAYS`] long: the
    /// ranges a contract could be reserved for.
    pub fn new(
        from: Day,
        to: Day,
        category: Option<CarCategory>,
        today: Day,
    ) -> Result<Self, DomainError> {
        if from < today {
            return Err(DomainError::Invalid {
                field: "from",
                message: format!("must not be in the past (today is {today})"),
            });
        }
        let range = DayRange::new(from, to)
            .and_then(|range| range.at_most(MAX_RENTAL_DAYS))
            .map_err(|error| DomainError::Invalid {
                field: "to",
                message: error.to_string(),
            })?;
        Ok(Self { range, category })
    }

    /// The days searched.
    pub fn range(&self) -> DayRange {
        self.range
    }

    /// The category searched, if one.
    pub fn category(&self) -> Option<CarCategory> {
        self.category
    }
}

/// A car as the catalogue shows it: its public fields (no plate, VIN, mileage or status) and
/// what renting it for the searched days costs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogueCar {
    pub id: CarId,
    pub manufacturer: Manufacturer,
    pub model: CarModel,
    pub year: ModelYear,
    pub category: CarCategory,
    pub daily_rate: DailyRate,
    /// The days searched, both ends included.
    pub days: u32,
    /// `days x dailyRate`.
    pub price: Money,
}

impl CatalogueCar {
    /// `car` offered for `range`; `None` when the price would pass the largest amount money
    /// holds, which no contract could charge either.
    fn offer(car: Car, range: DayRange) -> Option<Self> {
        let days = range.days();
        let price = car.daily_rate.money().times(days)?;
        Some(Self {
            id: car.id,
            manufacturer: car.manufacturer,
            model: car.model,
            year: car.year,
            category: car.category,
            daily_rate: car.daily_rate,
            days,
            price,
        })
    }
}

/// One page of the catalogue and the key the next page starts after.
pub type CataloguePage = Page<CatalogueCar>;

/// Whether car `id` has no slot taken on any day of `range`: one Query, `Limit 1`.
async fn free(store: &dyn Store, id: &CarId, range: DayRange) -> Result<bool, StoreError> {
    let mut query = cars::days::slot_query(id, range.start(), range.end());
    query.limit = 1;
    Ok(store.query(query).await?.items.is_empty())
}

/// One page of the cars that can be rented on every day of `search`'s range: `available` or
/// `rented` (a rented car may be back before the range starts; its slots say), of the searched
/// category, with no day slot in the range; by category, then newest first.
///
/// Costs, per page: one index Query per store page walked (at most [`MAX_INDEX_QUERIES`]) and one
/// slot Query per candidate (at most [`MAX_CANDIDATES_PER_PAGE`]). A page may end short of
/// `limit` with a cursor when a bound is reached; an empty page with a cursor means "keep going".
#[tracing::instrument(skip(store, start_after))]
pub async fn search_catalogue(
    store: &dyn Store,
    search: &CatalogueSearch,
    limit: PageLimit,
    start_after: Option<Item>,
) -> Result<CataloguePage, DomainError> {
    let wanted = limit.get() as usize;
    let mut offers = Vec::with_capacity(wanted);
    let mut examined = 0;
    let mut query = cars::rentable_cars(search.category);
    query.start_after = start_after;
    for _ in 0..MAX_INDEX_QUERIES {
        // Never more candidates than the page has room for or the budget allows.
        let room = (wanted - offers.len()).min((MAX_CANDIDATES_PER_PAGE - examined) as usize);
        query.limit = u32::try_from(room).unwrap_or(1).max(1);
        let page = store.query(query.clone()).await?;
        let mut candidates = page.items.into_iter().peekable();
        while let Some(item) = candidates.next() {
            examined += 1;
            let resume = key_attributes(&item, &query);
            let car = Car::from_item(item)?;
            if free(store, &car.id, search.range).await?
                && let Some(offer) = CatalogueCar::offer(car, search.range)
            {
                offers.push(offer);
            }
            if offers.len() == wanted {
                let more = candidates.peek().is_some() || page.last_evaluated_key.is_some();
                return Ok(Page {
                    items: offers,
                    next: more.then_some(resume),
                });
            }
        }
        let Some(next) = page.last_evaluated_key else {
            return Ok(Page {
                items: offers,
                next: None,
            });
        };
        query.start_after = Some(next);
        if examined >= MAX_CANDIDATES_PER_PAGE {
            break;
        }
    }
    Ok(Page {
        items: offers,
        next: query.start_after,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::money::Currency;

    fn day(text: &str) -> Day {
        Day::parse(text).unwrap()
    }

    fn search(from: &str, to: &str) -> Result<CatalogueSearch, DomainError> {
        CatalogueSearch::new(day(from), day(to), None, day("2027-01-10"))
    }

    fn refused_field(result: Result<CatalogueSearch, DomainError>) -> &'static str {
        match result {
            Err(DomainError::Invalid { field, .. }) => field,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn a_search_is_a_rental_range_from_today_of_at_most_90_days() {
        assert_eq!(
            search("2027-01-10", "2027-01-10").unwrap().range().days(),
            1
        );
        assert_eq!(
            search("2027-01-10", "2027-04-09").unwrap().range().days(),
            90
        );
        assert_eq!(refused_field(search("2027-01-09", "2027-01-12")), "from");
        assert_eq!(refused_field(search("2027-01-12", "2027-01-11")), "to");
        assert_eq!(refused_field(search("2027-01-10", "2027-04-10")), "to");
    }

    #[test]
    fn an_offer_shows_public_fields_and_prices_every_day_of_the_range() {
        let car = crate::cars::sample_car();
        let range = search("2027-01-10", "2027-01-13").unwrap().range();
        let offer = CatalogueCar::offer(car, range).unwrap();
        assert_eq!(offer.days, 4);
        assert_eq!(offer.price.amount(), 4 * 4_500);
        let view = serde_json::to_value(&offer).unwrap();
        let names: BTreeSet<&str> = view
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let public = [
            "category",
            "dailyRate",
            "days",
            "id",
            "manufacturer",
            "model",
            "price",
            "year",
        ];
        assert_eq!(names, BTreeSet::from(public));
        assert_eq!(
            view["price"],
            serde_json::json!({"amount": 18_000, "currency": "EUR"})
        );
    }

    #[test]
    fn a_price_past_the_largest_amount_is_no_offer() {
        let mut car = crate::cars::sample_car();
        let rate = Money::new(
            crate::money::MAX_AMOUNT / 2,
            Currency::parse("EUR").unwrap(),
        );
        car.daily_rate = DailyRate::new(rate.unwrap()).unwrap();
        let two = search("2027-01-10", "2027-01-11").unwrap().range();
        assert!(CatalogueCar::offer(car.clone(), two).is_some());
        let three = search("2027-01-10", "2027-01-12").unwrap().range();
        assert!(CatalogueCar::offer(car, three).is_none());
    }
}
