//! Appointment slots (预约, and 错时 outside working hours) and the bookings
//! of cases; a slot never holds more bookings than its capacity, however many
//! book at once.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::schema::{appointment_slots as slots, case_appointments as bookings};

/// An offered slot.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = slots)]
pub struct Slot {
    /// The community's street.
    pub street_id: Uuid,
    /// The slot's id (UUIDv7).
    pub id: Uuid,
    /// The community offering it.
    pub community_id: Uuid,
    /// The grid it is offered in; `None`: the whole community.
    pub grid_id: Option<Uuid>,
    /// When it begins.
    pub starts_at: DateTime<Utc>,
    /// When it ends (after it begins).
    pub ends_at: DateTime<Utc>,
    /// How many cases it takes (1 to 100).
    pub capacity: i16,
    /// How many bookings it holds now (never above `capacity`).
    pub booked: i16,
    /// Whether it lies outside working hours (错时), derived from the working calendar.
    pub off_hours: bool,
    /// Where it takes place, up to 200 characters, if given.
    pub place: Option<String>,
    /// The user who offered it.
    pub created_by: Uuid,
    /// When it was offered.
    pub created_at: DateTime<Utc>,
}

/// A slot to offer.
#[derive(Debug, Clone)]
pub struct NewSlot {
    /// The community's street.
    pub street_id: Uuid,
    /// The community offering it.
    pub community_id: Uuid,
    /// The grid it is offered in; `None`: the whole community.
    pub grid_id: Option<Uuid>,
    /// When it begins.
    pub starts_at: DateTime<Utc>,
    /// When it ends; must be after `starts_at`.
    pub ends_at: DateTime<Utc>,
    /// How many cases it takes (1 to 100).
    pub capacity: i16,
    /// Whether it lies outside working hours (the caller derives it from the calendar).
    pub off_hours: bool,
    /// Where it takes place, if given.
    pub place: Option<String>,
    /// The user offering it.
    pub created_by: Uuid,
}

/// Offers a slot.
pub async fn create_slot(conn: &mut Conn, new: NewSlot) -> StoreResult<Slot> {
    Ok(diesel::insert_into(slots::table)
        .values((
            slots::street_id.eq(new.street_id),
            slots::id.eq(Uuid::now_v7()),
            slots::community_id.eq(new.community_id),
            slots::grid_id.eq(new.grid_id),
            slots::starts_at.eq(new.starts_at),
            slots::ends_at.eq(new.ends_at),
            slots::capacity.eq(new.capacity),
            slots::off_hours.eq(new.off_hours),
            slots::place.eq(new.place),
            slots::created_by.eq(new.created_by),
        ))
        .returning(Slot::as_returning())
        .get_result(conn)
        .await?)
}

/// One slot visible to the caller.
pub async fn get_slot(conn: &mut Conn, id: Uuid) -> StoreResult<Slot> {
    Ok(slots::table
        .filter(slots::id.eq(id))
        .select(Slot::as_select())
        .first(conn)
        .await?)
}

/// Filters of a slot list.
#[derive(Debug, Clone, Default)]
pub struct SlotFilter {
    /// Only slots starting at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Only slots starting before this instant.
    pub to: Option<DateTime<Utc>>,
    /// Only slots with a free place.
    pub available: bool,
    /// Only slots outside (`true`) or inside (`false`) working hours.
    pub off_hours: Option<bool>,
}

/// A community's slots, in creation order.
pub async fn list_slots(
    conn: &mut Conn,
    community_id: Uuid,
    f: &SlotFilter,
    page: &PageRequest,
) -> StoreResult<Page<Slot>> {
    let mut q = slots::table
        .filter(slots::community_id.eq(community_id))
        .select(Slot::as_select())
        .order(slots::id)
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(from) = f.from {
        q = q.filter(slots::starts_at.ge(from));
    }
    if let Some(to) = f.to {
        q = q.filter(slots::starts_at.lt(to));
    }
    if f.available {
        q = q.filter(slots::booked.lt(slots::capacity));
    }
    if let Some(off) = f.off_hours {
        q = q.filter(slots::off_hours.eq(off));
    }
    if let Some(after) = page.after {
        q = q.filter(slots::id.gt(after));
    }
    Ok(Page::from_rows(q.load(conn).await?, page, |s| s.id))
}

/// A booking.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = bookings)]
pub struct Booking {
    /// The booking's id (UUIDv7).
    pub id: Uuid,
    /// The case booked for (one active booking per case).
    pub case_id: Uuid,
    /// The slot booked.
    pub slot_id: Uuid,
    /// The user who booked it (for an API key, the user accountable for it).
    pub booked_by: Uuid,
    /// When it was booked.
    pub booked_at: DateTime<Utc>,
    /// When it was cancelled; `None` while active.
    pub cancelled_at: Option<DateTime<Utc>>,
}

/// The active booking of a case.
pub async fn active_booking(
    conn: &mut Conn,
    street_id: Uuid,
    case_id: Uuid,
) -> StoreResult<Option<Booking>> {
    Ok(bookings::table
        .filter(bookings::street_id.eq(street_id))
        .filter(bookings::case_id.eq(case_id))
        .filter(bookings::cancelled_at.is_null())
        .select(Booking::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Takes a place in the slot for the case. a unique [`StoreError::Violation`] when the
/// case already holds a booking; `Ok(None)` when the slot is full.
pub async fn book(
    conn: &mut Conn,
    slot: &Slot,
    case_id: Uuid,
    by: Uuid,
    at: DateTime<Utc>,
) -> StoreResult<Option<Booking>> {
    let taken = diesel::update(
        slots::table
            .filter(slots::street_id.eq(slot.street_id))
            .filter(slots::id.eq(slot.id))
            .filter(slots::booked.lt(slots::capacity)),
    )
    .set(slots::booked.eq(slots::booked + 1))
    .execute(conn)
    .await?;
    if taken == 0 {
        return Ok(None);
    }
    let booking = diesel::insert_into(bookings::table)
        .values((
            bookings::street_id.eq(slot.street_id),
            bookings::id.eq(Uuid::now_v7()),
            bookings::case_id.eq(case_id),
            bookings::slot_id.eq(slot.id),
            bookings::booked_by.eq(by),
            bookings::booked_at.eq(at),
        ))
        .returning(Booking::as_returning())
        .get_result(conn)
        .await?;
    Ok(Some(booking))
}

/// Cancels a booking and frees its place.
pub async fn cancel(
    conn: &mut Conn,
    street_id: Uuid,
    booking: &Booking,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let n = diesel::update(
        bookings::table
            .filter(bookings::street_id.eq(street_id))
            .filter(bookings::id.eq(booking.id))
            .filter(bookings::cancelled_at.is_null()),
    )
    .set(bookings::cancelled_at.eq(at))
    .execute(conn)
    .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    diesel::update(
        slots::table
            .filter(slots::street_id.eq(street_id))
            .filter(slots::id.eq(booking.slot_id)),
    )
    .set(slots::booked.eq(slots::booked - 1))
    .execute(conn)
    .await?;
    Ok(())
}
