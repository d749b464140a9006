//! A tiny raw HTTP/1.1 server for tests: it answers each request with the
//! next prepared reply, written byte for byte (chunked, with deliberate
//! pauses and splits, or cut mid-stream), over a real loopback socket, so the
//! client's real code path is exercised. It records what it received.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One step of a prepared reply.
#[derive(Clone, Debug)]
enum Step {
    Write(Vec<u8>),
    Pause(Duration),
}

/// A prepared reply; the connection closes after its last step (abruptly,
/// mid-body, unless the reply ended the body).
#[derive(Clone, Debug, Default)]
pub(crate) struct Reply {
    steps: Vec<Step>,
}

impl Reply {
    /// `200` with an SSE chunked body to follow.
    pub fn stream() -> Self {
        Reply::default().raw(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
              transfer-encoding: chunked\r\nconnection: close\r\n\r\n",
        )
    }

    /// A complete response with a fixed body.
    pub fn status(code: u16, headers: &[(&str, &str)], body: &str) -> Self {
        let mut head = format!(
            "HTTP/1.1 {code} X\r\ncontent-length: {}\r\nconnection: close\r\n",
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        head.push_str(body);
        Reply::default().raw(head.as_bytes())
    }

    /// Raw bytes on the socket.
    pub fn raw(mut self, bytes: &[u8]) -> Self {
        self.steps.push(Step::Write(bytes.to_vec()));
        self
    }

    /// SSE bytes as one HTTP chunk (may hold part of an event, or many).
    pub fn sse(self, text: &str) -> Self {
        self.sse_bytes(text.as_bytes())
    }

    /// Like [`Reply::sse`] for bytes that need not be valid UTF-8 on their own.
    pub fn sse_bytes(self, bytes: &[u8]) -> Self {
        let mut chunk = format!("{:x}\r\n", bytes.len()).into_bytes();
        chunk.extend_from_slice(bytes);
        chunk.extend_from_slice(b"\r\n");
        self.raw(&chunk)
    }

    /// One `data:` event holding `json`.
    pub fn data(self, json: &str) -> Self {
        self.sse(&format!("data: {json}\n\n"))
    }

    /// A content delta event.
    pub fn content(self, text: &str) -> Self {
        let json = serde_json::json!({"id": "gen_test", "choices": [{"index": 0, "delta": {"content": text}}]});
        self.data(&json.to_string())
    }

    pub fn pause_ms(mut self, ms: u64) -> Self {
        self.steps.push(Step::Pause(Duration::from_millis(ms)));
        self
    }

    /// `data: [DONE]` and the end of the chunked body.
    pub fn done(self) -> Self {
        self.sse("data: [DONE]\n\n").end()
    }

    /// The end of the chunked body (a clean close).
    pub fn end(self) -> Self {
        self.raw(b"0\r\n\r\n")
    }
}

/// One request as the server received it.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    pub method: String,
    pub path: String,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The server; stops when dropped.
pub(crate) struct TestServer {
    /// `http://127.0.0.1:PORT/v1`
    pub base: String,
    received: Arc<Mutex<Vec<Received>>>,
    peak: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// Serve `replies` in order, one per request; later requests get the last one.
    pub async fn start(replies: Vec<Reply>) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let port = listener.local_addr().expect("local addr").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let next = Arc::new(AtomicUsize::new(0));
        let replies = Arc::new(replies);
        let rec = received.clone();
        let peak = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let peak2 = peak.clone();
        let task = tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (rec, next, replies) = (rec.clone(), next.clone(), replies.clone());
                let (peak, in_flight) = (peak2.clone(), in_flight.clone());
                tokio::spawn(async move {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    let _ = serve(sock, rec, next, replies).await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        TestServer {
            base: format!("http://127.0.0.1:{port}/v1"),
            received,
            peak,
            task,
        }
    }

    /// The most connections served at the same time.
    pub fn peak_connections(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// Requests received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut sock: TcpStream,
    rec: Arc<Mutex<Vec<Received>>>,
    next: Arc<AtomicUsize>,
    replies: Arc<Vec<Reply>>,
) -> std::io::Result<()> {
    let req = read_request(&mut sock).await?;
    rec.lock().expect("lock").push(req);
    let i = next.fetch_add(1, Ordering::SeqCst);
    let reply = replies
        .get(i)
        .or(replies.last())
        .cloned()
        .unwrap_or_else(|| Reply::status(599, &[], "no reply prepared"));
    sock.set_nodelay(true)?;
    for step in reply.steps {
        match step {
            Step::Write(b) => {
                sock.write_all(&b).await?;
                sock.flush().await?;
            }
            Step::Pause(d) => tokio::time::sleep(d).await,
        }
    }
    sock.shutdown().await
}

async fn read_request(sock: &mut TcpStream) -> std::io::Result<Received> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = sock.read(&mut tmp).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_string();
    let path = first.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = sock.read(&mut tmp).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&tmp[..n]);
    }
    Ok(Received {
        method,
        path,
        headers,
        body,
    })
}
