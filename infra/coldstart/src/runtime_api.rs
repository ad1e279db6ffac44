//! A Lambda Runtime API emulator: the four endpoints the runtime client calls, over plain
//! HTTP/1.1 on loopback, reporting what the function did and when.
//!
//! Each run gets its own emulator on its own port, so a request still in flight from a process
//! of an earlier run (its last poll, say) can never take an event meant for the next one. Each
//! `GET .../invocation/next` receives the next staged invocation, in order; once they are all
//! handed out, a poll is left unanswered (as Lambda does while no event is queued) until the
//! process is killed.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const NEXT: &str = "/2018-06-01/runtime/invocation/next";
const INVOCATION_PREFIX: &str = "/2018-06-01/runtime/invocation/";
const INIT_ERROR: &str = "/2018-06-01/runtime/init/error";

/// A connection that stays silent this long is dropped, so no handler thread outlives a run by
/// much even if a process were left behind.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Request heads and bodies from the runtime client are small; anything larger is a bug.
const MAX_BODY: usize = 16 * 1024 * 1024;
const MAX_HEAD_LINES: usize = 200;

/// Something the function did, with the instant the emulator saw it.
#[derive(Debug)]
pub enum Observation {
    /// A staged invocation was handed out.
    Polled { at: Instant, request_id: String },
    /// The function posted the result of an invocation.
    Responded {
        at: Instant,
        request_id: String,
        body: Vec<u8>,
    },
    /// The function reported that an invocation failed.
    InvocationFailed {
        request_id: String,
        error_type: String,
        body: Vec<u8>,
    },
    /// The function reported that it could not initialise.
    InitFailed { error_type: String, body: Vec<u8> },
}

/// One invocation a poll receives.
pub struct Invocation {
    /// The request id the function must answer under.
    pub request_id: String,
    /// The event, as the function receives it.
    pub event: Arc<Vec<u8>>,
}

/// The invocations not yet handed out, and what every one of them carries.
struct Staged {
    queue: VecDeque<Invocation>,
    function_arn: String,
    deadline: Duration,
}

struct Shared {
    staged: Mutex<Option<Staged>>,
    observations: Mutex<Sender<Observation>>,
}

impl Shared {
    fn report(&self, observation: Observation) {
        // The receiver only goes away when the harness is finishing; nothing to tell it then.
        let _ = self
            .observations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(observation);
    }
}

/// The emulator, listening on a free loopback port until dropped.
pub struct RuntimeApi {
    address: SocketAddr,
    shared: Arc<Shared>,
    stopped: Arc<AtomicBool>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag and closes the listener.
        let _ = TcpStream::connect(self.address);
    }
}

impl RuntimeApi {
    /// Binds `127.0.0.1:0` and serves connections on background threads.
    pub fn start() -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let address = listener.local_addr()?;
        let (sender, _) = mpsc::channel();
        let shared = Arc::new(Shared {
            staged: Mutex::new(None),
            observations: Mutex::new(sender),
        });
        let stopped = Arc::new(AtomicBool::new(false));
        let accepting = Arc::clone(&shared);
        let stop = Arc::clone(&stopped);
        thread::Builder::new()
            .name("runtime-api".into())
            .spawn(move || accept_loop(&listener, &accepting, &stop))?;
        Ok(Self {
            address,
            shared,
            stopped,
        })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Stages invocations, handed out in order one per poll, and returns the channel on which
    /// their observations arrive.
    pub fn stage(
        &self,
        invocations: Vec<Invocation>,
        function_arn: String,
        deadline: Duration,
    ) -> Receiver<Observation> {
        let (sender, receiver) = mpsc::channel();
        *self
            .shared
            .observations
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = sender;
        *self
            .shared
            .staged
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Staged {
            queue: invocations.into(),
            function_arn,
            deadline,
        });
        receiver
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>, stopped: &AtomicBool) {
    for stream in listener.incoming() {
        if stopped.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let shared = Arc::clone(shared);
        // A failed spawn only loses this connection; the client retries with a new one.
        let _ = thread::Builder::new()
            .name("runtime-api-conn".into())
            .spawn(move || {
                let _ = serve_connection(stream, &shared);
            });
    }
}

/// One request as the emulator needs it.
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Serves requests on one keep-alive connection until the client closes it.
fn serve_connection(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_read_timeout(Some(IDLE_TIMEOUT))?;
    stream.set_nodelay(true)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader)? {
        let at = Instant::now();
        match (request.method.as_str(), request.path.as_str()) {
            ("GET", NEXT) => {
                let next = shared
                    .staged
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .as_mut()
                    .and_then(|staged| {
                        let next = staged.queue.pop_front()?;
                        Some((
                            next.request_id,
                            next.event,
                            staged.function_arn.clone(),
                            staged.deadline,
                        ))
                    });
                let Some((request_id, event, arn, deadline)) = next else {
                    // Nothing queued: hold the poll open until the process goes away.
                    return drain_until_closed(&mut reader);
                };
                let deadline_ms = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .saturating_add(deadline)
                    .as_millis();
                let headers = [
                    ("Lambda-Runtime-Aws-Request-Id", request_id.clone()),
                    ("Lambda-Runtime-Deadline-Ms", deadline_ms.to_string()),
                    ("Lambda-Runtime-Invoked-Function-Arn", arn),
                    ("Lambda-Runtime-Trace-Id", trace_id(&request_id)),
                ];
                write_response(&mut writer, 200, "OK", &headers, &event)?;
                shared.report(Observation::Polled { at, request_id });
            }
            ("POST", INIT_ERROR) => {
                accept(&mut writer)?;
                shared.report(Observation::InitFailed {
                    error_type: error_type(&request),
                    body: request.body,
                });
            }
            ("POST", path) if path.starts_with(INVOCATION_PREFIX) => {
                let rest = &path[INVOCATION_PREFIX.len()..];
                let outcome = rest
                    .strip_suffix("/response")
                    .map(|id| (id, true))
                    .or_else(|| rest.strip_suffix("/error").map(|id| (id, false)));
                let Some((request_id, succeeded)) = outcome else {
                    not_found(&mut writer)?;
                    continue;
                };
                let request_id = request_id.to_owned();
                accept(&mut writer)?;
                shared.report(if succeeded {
                    Observation::Responded {
                        at,
                        request_id,
                        body: request.body,
                    }
                } else {
                    Observation::InvocationFailed {
                        request_id,
                        error_type: error_type(&request),
                        body: request.body,
                    }
                });
            }
            _ => not_found(&mut writer)?,
        }
    }
    Ok(())
}

fn error_type(request: &Request) -> String {
    request
        .header("Lambda-Runtime-Function-Error-Type")
        .unwrap_or("unspecified")
        .to_owned()
}

/// An X-Ray style trace header derived from the request id, so each run carries its own.
fn trace_id(request_id: &str) -> String {
    let hex: String = request_id
        .chars()
        .filter(char::is_ascii_hexdigit)
        .chain(std::iter::repeat('0'))
        .take(40)
        .collect();
    format!(
        "Root=1-{}-{};Parent={};Sampled=0",
        &hex[..8],
        &hex[8..32],
        &hex[24..40]
    )
}

fn accept(writer: &mut TcpStream) -> io::Result<()> {
    write_response(writer, 202, "Accepted", &[], br#"{"status":"OK"}"#)
}

fn not_found(writer: &mut TcpStream) -> io::Result<()> {
    write_response(
        writer,
        404,
        "Not Found",
        &[],
        br#"{"errorMessage":"unknown runtime API path","errorType":"InvalidRequest"}"#,
    )
}

fn write_response(
    writer: &mut TcpStream,
    status: u16,
    reason: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    // One write for head and body: two small writes would each be a segment on loopback.
    let mut message = head.into_bytes();
    message.extend_from_slice(body);
    writer.write_all(&message)?;
    writer.flush()
}

/// Reads until the peer closes the connection or the idle timeout passes.
fn drain_until_closed(reader: &mut BufReader<TcpStream>) -> io::Result<()> {
    let mut sink = [0u8; 4096];
    loop {
        if reader.read(&mut sink)? == 0 {
            return Ok(());
        }
    }
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_owned())
}

/// Reads one CRLF-terminated line, without its terminator; `None` at a clean end of stream.
fn read_line(reader: &mut BufReader<TcpStream>) -> io::Result<Option<String>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    while line.ends_with('\n') || line.ends_with('\r') {
        line.pop();
    }
    Ok(Some(line))
}

/// Reads one request; `None` when the client closed the connection between requests.
fn read_request(reader: &mut BufReader<TcpStream>) -> io::Result<Option<Request>> {
    let Some(request_line) = read_line(reader)? else {
        return Ok(None);
    };
    let mut parts = request_line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(invalid("malformed request line"));
    };
    let path = target.split('?').next().unwrap_or(target).to_owned();
    let method = method.to_owned();

    let mut headers = Vec::new();
    loop {
        let line = read_line(reader)?.ok_or_else(|| invalid("connection closed in headers"))?;
        if line.is_empty() {
            break;
        }
        if headers.len() == MAX_HEAD_LINES {
            return Err(invalid("too many header lines"));
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let mut request = Request {
        method,
        path,
        headers,
        body: Vec::new(),
    };

    let chunked = request
        .header("Transfer-Encoding")
        .is_some_and(|value| value.to_ascii_lowercase().contains("chunked"));
    if chunked {
        // Streaming responses arrive chunked, possibly with error trailers.
        request.body = read_chunked(reader)?;
    } else if let Some(length) = request.header("Content-Length") {
        let length: usize = length
            .parse()
            .map_err(|_| invalid("malformed Content-Length"))?;
        if length > MAX_BODY {
            return Err(invalid("body too large"));
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        request.body = body;
    }
    Ok(Some(request))
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader)?.ok_or_else(|| invalid("connection closed in a chunk"))?;
        let size = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| invalid("malformed chunk size"))?;
        if size == 0 {
            // Trailers, then the empty line that ends the message.
            for _ in 0..MAX_HEAD_LINES {
                let trailer =
                    read_line(reader)?.ok_or_else(|| invalid("connection closed in trailers"))?;
                if trailer.is_empty() {
                    return Ok(body);
                }
            }
            return Err(invalid("too many trailer lines"));
        }
        if body.len() + size > MAX_BODY {
            return Err(invalid("body too large"));
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        read_line(reader)?;
    }
}
