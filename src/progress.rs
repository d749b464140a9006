//! Live progress on stderr: an indicatif bar with ETA and per-model counts
//! when stderr is a terminal, one plain line every few seconds otherwise (CI
//! logs), nothing with `--no-progress`. Rendering is rate-limited so it costs
//! nothing measurable per request. Both fit the terminal width (the bar's
//! per-model message is cut to what is left), and Ctrl-C clears the bar.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::metrics::Aggregate;
use crate::record::{ResponseRecord, Status};

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Off,
    Bar,
    Lines,
}

impl Mode {
    /// Bar on a terminal, lines otherwise, off when asked.
    pub fn detect(no_progress: bool) -> Mode {
        if no_progress {
            Mode::Off
        } else if std::io::stderr().is_terminal() {
            Mode::Bar
        } else {
            Mode::Lines
        }
    }
}

pub struct Progress {
    mode: Mode,
    bar: Option<ProgressBar>,
    total: u64,
    done: u64,
    errors: u64,
    started: Instant,
    last_line: Instant,
    last_msg: Instant,
    every: Duration,
    width: usize,
}

impl Progress {
    /// `already` jobs were finished before this process (on resume).
    pub fn new(mode: Mode, total: u64, already: u64) -> Progress {
        let bar = (mode == Mode::Bar).then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(8));
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {elapsed_precise} {bar:20.cyan/blue} {pos}/{len} eta {eta} {wide_msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_position(already);
            bar
        });
        if mode == Mode::Lines {
            eprintln!(
                "evalgate: {} jobs to run ({already} already done)",
                total.saturating_sub(already)
            );
        }
        let now = Instant::now();
        Progress {
            mode,
            bar,
            total,
            done: already,
            errors: 0,
            started: now,
            last_line: now,
            last_msg: now,
            every: Duration::from_secs(5),
            width: crate::term::width(),
        }
    }

    /// A finished request.
    pub fn record(&mut self, rec: &ResponseRecord, agg: &Aggregate) {
        self.done += 1;
        if rec.row.status == Status::Error {
            self.errors += 1;
        }
        match self.mode {
            Mode::Off => {}
            Mode::Bar => {
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                    if self.last_msg.elapsed() >= Duration::from_millis(250) {
                        self.last_msg = Instant::now();
                        bar.set_message(self.per_model(agg));
                    }
                }
            }
            Mode::Lines => {
                if self.last_line.elapsed() >= self.every {
                    self.last_line = Instant::now();
                    let line = format!(
                        "[{:>6.1}s] {}/{} done, {} errors | {}",
                        self.started.elapsed().as_secs_f64(),
                        self.done,
                        self.total,
                        self.errors,
                        self.per_model(agg)
                    );
                    let line = crate::term::truncate(&line, self.width);
                    let _ = writeln!(std::io::stderr(), "{line}");
                }
            }
        }
    }

    /// `model done/errors p50 TTFT` for each model.
    fn per_model(&self, agg: &Aggregate) -> String {
        agg.order()
            .iter()
            .filter_map(|m| agg.models.get(m))
            .map(|s| {
                let (ok, errors) = s.ok_errors();
                (s.model(), ok, errors, s.ttft_p50_ms())
            })
            .map(|(model, done, errors, p50)| match p50 {
                Some(p) => format!("{model} {done} ok/{errors} err p50 {p:.0}ms"),
                None => format!("{model} {done} ok/{errors} err"),
            })
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// A message that ends the live display (Ctrl-C): the bar is cleared
    /// first, so the terminal holds the message and not a torn bar.
    pub fn note(&mut self, msg: &str) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        eprintln!("{msg}");
    }

    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
