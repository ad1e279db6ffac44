//! `/v1/catalogue` and `/v1/cars/{id}/availability`: what anyone may ask of the rental fleet,
//! without signing in: which cars are free for some days and at what price, and when one car is
//! taken. The ranges' rules (order, length, not in the past) are the domain's; this parses the
//! days and the page.

use std::sync::Arc;

use itinera::calendar::Day;
use itinera::cars::{CarCategory, CarId};
use itinera::catalogue::{self, CatalogueSearch};
use itinera::pagination::PageLimit;

use crate::fields::{CURSOR, Field, LIMIT, Shape, integer_text};
use crate::problem::ApiError;
use crate::reply::Reply;
use crate::request::Input;
use crate::services::Services;

/// The first and last day of a range, both included.
const FROM: Field = Field::required("from", Shape::Date);
const TO: Field = Field::required("to", Shape::Date);

/// The query parameters of the catalogue.
pub(crate) const SEARCH_PARAMS: &[Field] = &[
    FROM,
    TO,
    Field::optional("category", super::cars::CATEGORY),
    LIMIT,
    CURSOR,
];
/// The query parameters of a car's availability.
pub(crate) const AVAILABILITY_PARAMS: &[Field] = &[FROM, TO];

/// `GET /v1/catalogue`.
pub(crate) async fn search(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let mut params = input.query_params(SEARCH_PARAMS)?;
    let from = params.required("from", |text| Day::parse(&text));
    let to = params.required("to", |text| Day::parse(&text));
    let category = params.optional("category", |text| CarCategory::parse(&text));
    let limit = params.optional("limit", |text| PageLimit::try_from(integer_text(text)?));
    let cursor = params.optional("cursor", Ok);
    let (from, to, category, limit, cursor) = params.finish((from, to, category, limit, cursor))?;
    let today = Day::today(services.clock.now());
    let search = CatalogueSearch::new(from, to, category, today)?;
    let limit = limit.unwrap_or_default();
    // Bound to the days and the category, not the page size.
    let pager = services.cursors.pager("catalogue", &search)?;
    let start_after = pager.start_after(cursor.as_deref())?;
    let page = catalogue::search_catalogue(&*services.store, &search, limit, start_after).await?;
    Reply::list(&page.items, limit.get(), pager.next(page.next).as_deref())
}

/// `GET /v1/cars/{id}/availability`.
pub(crate) async fn availability(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let id = input.entity_id::<CarId>()?;
    let mut params = input.query_params(AVAILABILITY_PARAMS)?;
    let from = params.required("from", |text| Day::parse(&text));
    let to = params.required("to", |text| Day::parse(&text));
    let (from, to) = params.finish((from, to))?;
    let range = catalogue::availability_range(from, to)?;
    let availability = catalogue::car_availability(&*services.store, &id, range).await?;
    Reply::ok(&availability)
}
