//! The public face of the rental fleet: which cars can be rented for some days and at what price
//! (the catalogue), and on which days one car is taken (its availability). Both read the day
//! slots contracts write in a car's partition (`cars::days`), with a sort-key range Query, never a
//! scan; neither shows a contract id, a VIN, a mileage or a car's internal status to its anonymous
//! callers.

mod availability;
mod search;

pub use availability::{
    Availability, MAX_AVAILABILITY_DAYS, availability_range, busy_ranges, car_availability,
};
pub use search::{
    CatalogueCar, CataloguePage, CatalogueSearch, MAX_CANDIDATES_PER_PAGE, MAX_RENTAL_DAYS,
    search_catalogue,
};
