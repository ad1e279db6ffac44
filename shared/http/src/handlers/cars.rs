//! `/v1/cars`: the rental fleet over HTTP, for staff. A read by id and a delete are the shared
//! handlers (`fetch` and `remove` of `CarId`); what is the fleet's own is which fields and
//! filters exist and how they parse.

use std::sync::Arc;

use itinera::cars::{
    self, CarCategory, CarChanges, CarFilter, CarId, CarModel, CarStatus, DailyRate, LicencePlate,
    Manufacturer, Mileage, ModelYear, NewCar, Vin,
};
use itinera::pagination::PageLimit;
use serde_json::Value;

use crate::fields::{CURSOR, Field, LIMIT, Shape, integer_shape, integer_text, text, whole};
use crate::problem::ApiError;
use crate::reply::Reply;
use crate::request::Input;
use crate::services::Services;

pub(crate) const LICENSE_PLATE: Shape = Shape::Pattern(LicencePlate::PATTERN);
pub(crate) const VIN: Shape = Shape::Pattern(Vin::PATTERN);
pub(crate) const MANUFACTURER: Shape = Shape::text(Manufacturer::MAX_CHARS);
pub(crate) const MODEL: Shape = Shape::text(CarModel::MAX_CHARS);
/// The model year: from 1990; the latest accepted is next year, which a schema cannot state.
pub(crate) const YEAR: Shape = integer_shape!(ModelYear);
pub(crate) const MILEAGE: Shape = integer_shape!(Mileage);
pub(crate) const CATEGORY: Shape = Shape::Choice(CarCategory::WORDS);
pub(crate) const STATUS: Shape = Shape::Choice(CarStatus::WORDS);
/// The statuses an update may set (`rented` belongs to contracts).
const SETTABLE_STATUS: Shape = Shape::Choice(CarStatus::SETTABLE);

/// The fields a create carries.
/// A daily rate: money of at least one minor unit.
pub(crate) const DAILY_RATE: Shape = Shape::Component("PositiveMoney");
pub(crate) const CREATE_FIELDS: &[Field] = &[
    Field::required("licensePlate", LICENSE_PLATE),
    Field::required("vin", VIN),
    Field::required("manufacturer", MANUFACTURER),
    Field::required("model", MODEL),
    Field::required("year", YEAR),
    Field::required("category", CATEGORY),
    Field::required("dailyRate", DAILY_RATE),
    Field::required("mileage", MILEAGE),
];
/// The fields an update may carry (at least one).
pub(crate) const UPDATE_FIELDS: &[Field] = &[
    Field::optional("licensePlate", LICENSE_PLATE),
    Field::optional("dailyRate", DAILY_RATE),
    Field::optional("category", CATEGORY),
    Field::optional("status", SETTABLE_STATUS),
    Field::optional("mileage", MILEAGE),
];
/// The query parameters of the list.
pub(crate) const LIST_PARAMS: &[Field] = &[
    LIMIT,
    CURSOR,
    Field::optional("status", STATUS),
    Field::optional("manufacturer", MANUFACTURER),
    Field::optional("category", CATEGORY),
];

fn daily_rate(value: Value) -> Result<DailyRate, String> {
    DailyRate::new(super::flights::price(value)?)
}

fn settable_status(text: &str) -> Result<CarStatus, String> {
    CarStatus::parse(text)
        .ok()
        .filter(|status| CarStatus::SETTABLE.contains(&status.as_str()))
        .ok_or_else(|| format!("must be one of: {}", CarStatus::SETTABLE.join(", ")))
}

/// `POST /v1/cars`.
pub(crate) async fn create(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    input.query_params(&[])?;
    let now = services.clock.now();
    let mut body = input.json_fields(CREATE_FIELDS)?;
    let license_plate = body.required("licensePlate", text(LicencePlate::parse));
    let vin = body.required("vin", text(Vin::parse));
    let manufacturer = body.required("manufacturer", text(Manufacturer::parse));
    let model = body.required("model", text(CarModel::parse));
    let year = body.required("year", whole(|year| ModelYear::new(year, now)));
    let category = body.required("category", text(CarCategory::parse));
    let daily_rate = body.required("dailyRate", daily_rate);
    let mileage = body.required("mileage", whole(Mileage::try_from));
    let (license_plate, vin, manufacturer, model, year, category, daily_rate, mileage) = body
        .finish((
            license_plate,
            vin,
            manufacturer,
            model,
            year,
            category,
            daily_rate,
            mileage,
        ))?;
    let new = NewCar {
        license_plate,
        vin,
        manufacturer,
        model,
        year,
        category,
        daily_rate,
        mileage,
    };
    super::add(&services, &input, "/v1/cars", new).await
}

/// `GET /v1/cars`.
pub(crate) async fn list(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let mut params = input.query_params(LIST_PARAMS)?;
    let limit = params.optional("limit", |text| PageLimit::try_from(integer_text(text)?));
    let cursor = params.optional("cursor", Ok);
    let status = params.optional("status", |text| CarStatus::parse(&text));
    let manufacturer = params.optional("manufacturer", |text| Manufacturer::parse(&text));
    let category = params.optional("category", |text| CarCategory::parse(&text));
    let (limit, cursor, status, manufacturer, category) =
        params.finish((limit, cursor, status, manufacturer, category))?;
    let filter = CarFilter {
        status,
        category,
        manufacturer,
    };
    let limit = limit.unwrap_or_default();
    let pager = services.cursors.pager("cars", &filter)?;
    let start_after = pager.start_after(cursor.as_deref())?;
    let page = cars::list_cars(&*services.store, &filter, limit, start_after).await?;
    Reply::list(&page.items, limit.get(), pager.next(page.next).as_deref())
}

/// `PATCH /v1/cars/{id}`.
pub(crate) async fn update(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let id = input.entity_id::<CarId>()?;
    input.query_params(&[])?;
    let mut body = input.json_changes(UPDATE_FIELDS)?;
    let license_plate = body.optional("licensePlate", text(LicencePlate::parse));
    let daily_rate = body.optional("dailyRate", daily_rate);
    let category = body.optional("category", text(CarCategory::parse));
    let status = body.optional("status", text(settable_status));
    let mileage = body.optional("mileage", whole(Mileage::try_from));
    let (license_plate, daily_rate, category, status, mileage) =
        body.finish((license_plate, daily_rate, category, status, mileage))?;
    let changes = CarChanges {
        license_plate,
        daily_rate,
        category,
        status,
        mileage,
    };
    // The car's own use case, not the shared change: a car leaving maintenance needs its papers.
    let (store, clock, ids) = services.ports();
    let precondition = input.precondition();
    let car = cars::update_car(
        store,
        clock,
        ids,
        &input.context,
        &id,
        &changes,
        &precondition,
    )
    .await?;
    Ok(Reply::ok(&car)?.with_version(car.version))
}
