//! Keyset pagination over time-ordered (UUIDv7) ids.

use uuid::Uuid;

/// A validated page request: at most `limit` rows after `after`.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    /// The cursor: the last id of the previous page (`None` for the first page).
    pub after: Option<Uuid>,
    /// How many rows the page holds at most.
    pub limit: i64,
}

impl PageRequest {
    /// The first `limit` rows.
    pub const fn first(limit: i64) -> PageRequest {
        PageRequest { after: None, limit }
    }

    /// Rows to fetch: one more than asked, to learn whether a next page exists.
    pub fn fetch_limit(&self) -> i64 {
        self.limit + 1
    }
}

/// One page of rows and the cursor of the next page, if any.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The page's rows, in id order.
    pub items: Vec<T>,
    /// The id to pass as `after` for the next page; `None` on the last page.
    pub next_after: Option<Uuid>,
}

impl<T> Page<T> {
    /// Trims the extra row fetched by [`PageRequest::fetch_limit`].
    pub fn from_rows(mut rows: Vec<T>, req: &PageRequest, id: impl Fn(&T) -> Uuid) -> Page<T> {
        let limit = usize::try_from(req.limit).unwrap_or(0);
        let next_after = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(id)
        } else {
            None
        };
        Page {
            items: rows,
            next_after,
        }
    }

    /// Maps the items, keeping the cursor.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_after: self.next_after,
        }
    }
}
