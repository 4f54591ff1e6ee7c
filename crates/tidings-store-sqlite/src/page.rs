//! Cursor pagination: lists are newest first by id, and the cursor is the last id returned.

use tidings_store::{Page, StoreError, StoreResult};

const DEFAULT_LIMIT: u32 = 50;

/// The page size asked for: 0 means the default, and no more than `max`.
pub(crate) fn limit(asked: u32, max: u32) -> u32 {
    if asked == 0 {
        DEFAULT_LIMIT.min(max)
    } else {
        asked.min(max)
    }
}

/// The id below which the page starts.
pub(crate) fn cursor(cursor: Option<&str>) -> StoreResult<Option<i64>> {
    cursor
        .map(|text| {
            text.parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| StoreError::InvalidState(format!("invalid cursor `{text}`")))
        })
        .transpose()
}

/// Cuts `items` (fetched with `limit + 1` to learn whether more follow) to a page.
pub(crate) fn page<T>(mut items: Vec<T>, limit: u32, id: impl Fn(&T) -> i64) -> Page<T> {
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = if more {
        items.last().map(|last| id(last).to_string())
    } else {
        None
    };
    Page { items, next_cursor }
}
