//! Ctrl-C and SIGTERM for a run: registered once, before the first request,
//! so a signal between two waits is never lost.

/// Ctrl-C and SIGTERM, registered once for the whole run.
pub(super) struct Interrupts {
    #[cfg(unix)]
    streams: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Interrupts {
    pub(super) fn new() -> Interrupts {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let streams = signal(SignalKind::interrupt())
                .and_then(|int| Ok((int, signal(SignalKind::terminate())?)))
                .ok();
            Interrupts { streams }
        }
        #[cfg(not(unix))]
        Interrupts {}
    }

    /// Resolves on the next Ctrl-C or SIGTERM.
    pub(super) async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some((int, term)) = &mut self.streams {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
