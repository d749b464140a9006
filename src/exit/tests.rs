//! Unit tests of `exit`.

use super::*;

#[test]
fn worse_ranks_every_code() {
    let order = [OK, FAILED, USAGE, RUN_FAILED, INTERRUPTED];
    for (i, &a) in order.iter().enumerate() {
        for (j, &b) in order.iter().enumerate() {
            assert_eq!(worse(a, b), order[i.max(j)], "worse({a}, {b})");
        }
    }
    assert_eq!(worse(OK, 42), 42, "an unknown failure is not success");
    assert_eq!(worse(USAGE, 42), USAGE);
}

#[test]
fn typed_errors_keep_their_type_text_and_code() {
    let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
    let err = Error::from(usage(io).context("reading suites/a.yaml"));
    assert_eq!(err.exit_code(), USAGE);
    assert_eq!(err.to_string(), "reading suites/a.yaml: gone");
    let Error::Usage(inner) = &err else {
        panic!("not a usage error")
    };
    let marked = inner.downcast_ref::<UsageError>().unwrap();
    assert!(marked.get_ref().is::<std::io::Error>());
    let failed = Error::from(anyhow::anyhow!("gateway unreachable"));
    assert_eq!(failed.exit_code(), RUN_FAILED);
    assert_eq!(Error::from(crate::usage!("bad flag")).exit_code(), USAGE);
}
