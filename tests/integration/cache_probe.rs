//! `cache_probe: true`: every case is sent twice, the probe only once its
//! prime has finished, and the probe's cached input tokens tell whether the
//! provider cached the prompt (the sim caches whole-message prefixes of
//! 1,024 tokens or more). With `--cache`, prime and probe keep entries of
//! their own.

use std::path::Path;

use evalgate::record::{CacheProbe, RequestRow};

use crate::common::*;

/// A suite whose `long` case has a system prompt of ~1,400 tokens, `short`
/// one far below the provider's minimum, and `plain` opts out of probing.
fn probe_suite(dir: &Path) -> std::path::PathBuf {
    let policy = "Clause: unworn items may be returned within thirty days of delivery. ".repeat(80);
    let yaml = format!(
        "name: probe\nmodels: [sim/fast]\ndefaults:\n  cache_probe: true\ncases:\n  \
         - {{id: long, system: \"{policy}\", prompt: Can I return a jacket?}}\n  \
         - {{id: short, prompt: Hello there}}\n  \
         - {{id: plain, prompt: Hello again, cache_probe: false}}\n"
    );
    suite_file(dir, "probe.yaml", &yaml)
}

fn find<'a>(rows: &'a [RequestRow], case: &str, repeat: u32) -> &'a RequestRow {
    rows.iter()
        .find(|r| r.case_id == case && r.repeat == repeat)
        .unwrap_or_else(|| panic!("no row {case} #{repeat}: {rows:?}"))
}

#[test]
fn a_probe_follows_its_prime_and_shows_whether_the_prompt_was_cached() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let suite = probe_suite(d);
    let checked = evalgate(&["validate", suite.to_str().unwrap()], d);
    assert!(
        text(&checked).contains("5 cases (2 of them cache probes)"),
        "{}",
        text(&checked)
    );
    let extra = ["-n", "2", "-c", "8", "--no-history", "--no-lookup"];
    let out = run_sim(d, &suite, Path::new("r"), &extra);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let rows = rows(&d.join("r"));
    let mut ids: Vec<&str> = rows
        .iter()
        .filter(|r| r.repeat == 0)
        .map(|r| r.case_id.as_str())
        .collect();
    ids.sort();
    assert_eq!(ids, ["long", "long.probe", "plain", "short", "short.probe"]);
    for repeat in 0..2 {
        assert_eq!(find(&rows, "plain", repeat).cache_probe, None);
        for case in ["long", "short"] {
            let prime = find(&rows, case, repeat);
            let probe = find(&rows, &format!("{case}.probe"), repeat);
            assert_eq!(prime.cache_probe, Some(CacheProbe::Prime));
            assert_eq!(probe.cache_probe, Some(CacheProbe::Probe));
            // With 8 slots free, only waiting for its prime kept the probe
            // from going out at once.
            assert!(
                probe.queue_ms.unwrap() >= prime.duration_ms.unwrap(),
                "the probe went out before its prime finished: {prime:?} {probe:?}"
            );
            let (input, cached) = (probe.input_tokens.unwrap(), probe.cached_tokens.unwrap());
            match case {
                "long" => assert!(input > 1024 && cached == input, "{probe:?}"),
                _ => assert_eq!(cached, 0, "a short prompt is never cached: {probe:?}"),
            }
        }
    }
    let s = summary(&d.join("r"));
    let m = &s.models[0];
    assert_eq!((m.cache_probes, m.cache_probe_hits), (4, 2), "{m:?}");
    let share = m.cache_probe_read_share.unwrap();
    assert!(share > 0.9 && share < 1.0, "{m:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("cache probe: sim/fast read from cache on 2 of 4 probes"),
        "{stdout}"
    );
}

#[test]
fn recorded_primes_and_probes_replay_their_own_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let suite = probe_suite(d);
    // One slot: the long prime of repeat 0 is the first to send its prompt.
    let extra = |mode| ["-c", "1", "--no-history", "--no-lookup", "--cache", mode];
    let recorded = run_sim(d, &suite, Path::new("rec"), &extra("record"));
    assert_eq!(recorded.status.code(), Some(0), "{}", text(&recorded));
    let first = rows(&d.join("rec"));
    assert_eq!(find(&first, "long", 0).cached_tokens, Some(0));
    assert!(find(&first, "long.probe", 0).cached_tokens.unwrap() > 1024);

    let replayed = run_sim(d, &suite, Path::new("rep"), &extra("replay"));
    assert_eq!(replayed.status.code(), Some(0), "{}", text(&replayed));
    let again = rows(&d.join("rep"));
    assert!(again.iter().all(|r| r.cached), "{again:?}");
    // Same body, but the prime replays the prime's answer and the probe the
    // probe's: one entry each.
    for case in ["long", "long.probe", "short", "short.probe"] {
        assert_eq!(
            find(&again, case, 0).cached_tokens,
            find(&first, case, 0).cached_tokens,
            "{case}"
        );
    }
    // A replayed probe says nothing about the provider's cache today, and
    // a replayed answer used no tokens now.
    let m = &summary(&d.join("rep")).models[0];
    assert_eq!((m.cache_probes, m.input_tokens, m.cached_tokens), (0, 0, 0));
    assert_eq!(m.cache_saved_usd, None);
    assert!(!String::from_utf8_lossy(&replayed.stdout).contains("prompt cache:"));
}

#[test]
fn a_bad_cache_probe_value_or_a_clashing_id_is_refused_with_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let bad = suite_file(
        d,
        "bad.yaml",
        "name: bad\nmodels: [sim/fast]\ncases:\n  - id: a\n    prompt: hi\n    cache_probe: often\n",
    );
    let out = evalgate(&["validate", bad.to_str().unwrap()], d);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("line 6"), "{}", text(&out));
    let clash = suite_file(
        d,
        "clash.yaml",
        "name: clash\nmodels: [sim/fast]\ncases:\n  - {id: a, prompt: hi, cache_probe: true}\n  - {id: a.probe, prompt: ho}\n",
    );
    let out = evalgate(&["validate", clash.to_str().unwrap()], d);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("duplicate case id `a.probe`"),
        "{}",
        text(&out)
    );
}
