//! Unit tests of `build_info`.

use super::*;

#[test]
fn the_version_line_names_version_commit_and_date() {
    assert!(VERSION_LINE.starts_with(VERSION));
    assert!(VERSION_LINE.contains(&format!("commit {COMMIT}")));
    let date = DATE.as_bytes();
    assert_eq!(date.len(), 10, "{DATE}");
    assert!(date[4] == b'-' && date[7] == b'-', "{DATE}");
}

#[test]
fn the_slug_is_owner_slash_name() {
    let slug = github_slug();
    assert!(
        REPOSITORY.starts_with("https://github.com/"),
        "{REPOSITORY}"
    );
    assert_eq!(
        slug.split('/').filter(|p| !p.is_empty()).count(),
        2,
        "{slug}"
    );
}
