//! Unit tests of `history::target`.

use super::*;

#[test]
fn targets() {
    assert_eq!(
        HistoryTarget::from_flag(None),
        HistoryTarget::Sqlite(DEFAULT_SQLITE_PATH.into())
    );
    assert_eq!(
        HistoryTarget::from_flag(Some("sqlite:/tmp/h.db")),
        HistoryTarget::Sqlite("/tmp/h.db".into())
    );
    assert_eq!(
        HistoryTarget::from_flag(Some("h.sqlite")),
        HistoryTarget::Sqlite("h.sqlite".into())
    );
    let pg = HistoryTarget::from_flag(Some("postgres://u:pw@h:5432/db"));
    assert_eq!(
        pg,
        HistoryTarget::Postgres("postgres://u:pw@h:5432/db".into())
    );
    assert_eq!(pg.display(), "postgres://u:***@h:5432/db");
}
