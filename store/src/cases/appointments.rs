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
    pub street_id: Uuid,
    pub id: Uuid,
    pub community_id: Uuid,
    pub grid_id: Option<Uuid>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub capacity: i16,
    pub booked: i16,
    pub off_hours: bool,
    pub place: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

/// A slot to offer.
#[derive(Debug, Clone)]
pub struct NewSlot {
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub grid_id: Option<Uuid>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub capacity: i16,
    pub off_hours: bool,
    pub place: Option<String>,
    pub created_by: Uuid,
}

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
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Only slots with a free place.
    pub available: bool,
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
    pub id: Uuid,
    pub case_id: Uuid,
    pub slot_id: Uuid,
    pub booked_by: Uuid,
    pub booked_at: DateTime<Utc>,
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
