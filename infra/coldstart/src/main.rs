//! `coldstart <binary>`: starts a Lambda function binary against a local Runtime API emulator
//! again and again and reports how long it takes to become ready and to answer its first event.
//!
//! Each run execs the binary with the environment Lambda sets, then measures exec -> first
//! `/invocation/next` poll (initialisation) and exec -> the first invocation's response (a cold
//! request as a client sees it, minus the network), reads the peak RSS once that response is in,
//! and kills the process.

mod runtime_api;

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use runtime_api::{Observation, RuntimeApi};

const USAGE: &str = "\
usage: coldstart <binary> [--runs N] [--warmup N] [--event FILE] [--env K=V ...]
                 [--name FUNCTION] [--timeout SECONDS] [--log FILE]

  --runs N          measured runs (default 20, at most 10000)
  --warmup N        runs before the measured ones, not counted (default 1): they bring the binary
                    and its libraries into the page cache, which Lambda's own cache also does
  --event FILE      JSON event of the first invocation (default: {})
  --env K=V         extra variable for the function (repeatable); overrides the defaults
  --name FUNCTION   AWS_LAMBDA_FUNCTION_NAME (default: the binary's file name)
  --timeout SECONDS per run, exec to first response (default 10)
  --log FILE        where the function's stdout and stderr go (default: a file in the temp dir)";

const MAX_RUNS: usize = 10_000;
/// How often a run checks whether the function exited while it waits for an observation.
const EXIT_CHECK: Duration = Duration::from_millis(20);

struct Options {
    binary: PathBuf,
    runs: usize,
    warmup: usize,
    event: Vec<u8>,
    env: Vec<(String, String)>,
    name: String,
    timeout: Duration,
    log: PathBuf,
}

fn parse_options(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut binary = None;
    let mut runs = 20;
    let mut warmup = 1;
    let mut event = b"{}".to_vec();
    let mut env = Vec::new();
    let mut name = None;
    let mut timeout = Duration::from_secs(10);
    let mut log = None;

    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or_else(|| format!("{flag} needs a value"));
        let count = |flag: &str, text: String| -> Result<usize, String> {
            text.parse::<usize>()
                .ok()
                .filter(|n| *n <= MAX_RUNS)
                .ok_or_else(|| format!("{flag} takes a whole number up to {MAX_RUNS}"))
        };
        match arg.as_str() {
            "--runs" => runs = count("--runs", value("--runs")?)?,
            "--warmup" => warmup = count("--warmup", value("--warmup")?)?,
            "--event" => {
                let path = value("--event")?;
                event = fs::read(&path).map_err(|error| format!("cannot read {path}: {error}"))?;
                serde_json::from_slice::<serde_json::Value>(&event)
                    .map_err(|error| format!("{path} is not JSON: {error}"))?;
            }
            "--env" => {
                let pair = value("--env")?;
                let (key, val) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("--env takes K=V, got {pair}"))?;
                env.push((key.to_owned(), val.to_owned()));
            }
            "--name" => name = Some(value("--name")?),
            "--timeout" => {
                let text = value("--timeout")?;
                let seconds = text
                    .parse::<f64>()
                    .ok()
                    .filter(|s| *s > 0.0 && *s <= 600.0)
                    .ok_or("--timeout takes seconds, above 0 and at most 600")?;
                timeout = Duration::from_secs_f64(seconds);
            }
            "--log" => log = Some(PathBuf::from(value("--log")?)),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            path if binary.is_none() => binary = Some(PathBuf::from(path)),
            extra => return Err(format!("unexpected argument {extra}")),
        }
    }

    let binary = binary.ok_or("missing the binary to start")?;
    if runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    let name = match name {
        Some(name) => name,
        None => binary
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .ok_or("the binary path has no file name")?,
    };
    let log = log.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("coldstart-{name}-{}.log", std::process::id()))
    });
    Ok(Options {
        binary,
        runs,
        warmup,
        event,
        env,
        name,
        timeout,
        log,
    })
}

/// The environment of a function in Lambda (provided.al2023), with dummy credentials; `--env`
/// values come last and win.
fn lambda_env(options: &Options, runtime_api: &str) -> Vec<(String, String)> {
    let name = options.name.as_str();
    let mut env: Vec<(String, String)> = [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api),
        ("AWS_LAMBDA_FUNCTION_NAME", name),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/01/01/[$LATEST]00000000000000000000000000000000",
        ),
        ("AWS_LAMBDA_LOG_GROUP_NAME", &format!("/aws/lambda/{name}")),
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "AKIDCOLDSTARTHARNESS"),
        ("AWS_SECRET_ACCESS_KEY", "coldstart-harness-dummy-secret"),
        ("AWS_SESSION_TOKEN", "coldstart-harness-dummy-token"),
        ("_HANDLER", "bootstrap"),
        ("LAMBDA_TASK_ROOT", "/var/task"),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime"),
        ("LANG", "en_US.UTF-8"),
        ("TZ", ":UTC"),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin"),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value.to_owned()))
    .collect();
    for (key, value) in &options.env {
        env.retain(|(existing, _)| existing != key);
        env.push((key.clone(), value.clone()));
    }
    env
}

/// What one run measured.
struct Sample {
    init: Duration,
    first_response: Duration,
    peak_rss_kib: Option<u64>,
    status: Option<u64>,
}

/// Kills the function when a run ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run_once(options: &Options, event: &Arc<Vec<u8>>, run: usize) -> Result<Sample, String> {
    // A fresh emulator per run; it closes when this function returns, after the kill.
    let api = RuntimeApi::start()
        .map_err(|error| format!("cannot start the runtime API emulator: {error}"))?;
    let env = lambda_env(options, &api.address().to_string());
    let request_id = request_id(run);
    let arn = format!(
        "arn:aws:lambda:us-east-1:123456789012:function:{}",
        options.name
    );
    let observations = api.stage(request_id.clone(), Arc::clone(event), arn, options.timeout);
    let log = File::create(&options.log)
        .map_err(|error| format!("cannot create {}: {error}", options.log.display()))?;
    let log_err = log
        .try_clone()
        .map_err(|error| format!("cannot reopen {}: {error}", options.log.display()))?;

    let mut command = Command::new(&options.binary);
    command
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err);
    let started = Instant::now();
    let child = command
        .spawn()
        .map_err(|error| format!("cannot start {}: {error}", options.binary.display()))?;
    let mut running = Running(child);
    let deadline = started + options.timeout;

    let polled = match wait_for(&observations, &mut running, deadline)
        .map_err(|problem| format!("{problem} before the first poll"))?
    {
        Observation::Polled { at } => at,
        other => return Err(describe_failure(other)),
    };
    let (responded, body) = match wait_for(&observations, &mut running, deadline)
        .map_err(|problem| format!("{problem} after the first poll, before the response"))?
    {
        Observation::Responded {
            at,
            request_id: id,
            body,
        } if id == request_id => (at, body),
        other => return Err(describe_failure(other)),
    };
    // Read before the kill: VmHWM is the high-water mark of resident memory so far.
    let peak_rss_kib = peak_rss_kib(running.0.id());
    drop(running);

    let status = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|response| response.get("statusCode")?.as_u64());
    Ok(Sample {
        init: polled.saturating_duration_since(started),
        first_response: responded.saturating_duration_since(started),
        peak_rss_kib,
        status,
    })
}

/// A request id unique to the run, shaped like Lambda's (a UUID).
fn request_id(run: usize) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let hex = format!("{:016x}{:016x}", run as u64, nanos as u64);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The next observation, or why there is none: the process exited or the run timed out.
fn wait_for(
    observations: &Receiver<Observation>,
    running: &mut Running,
    deadline: Instant,
) -> Result<Observation, String> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("timed out".into());
        }
        match observations.recv_timeout(left.min(EXIT_CHECK)) {
            Ok(observation) => return Ok(observation),
            Err(RecvTimeoutError::Timeout) => {
                if let Ok(Some(status)) = running.0.try_wait() {
                    return Err(format!("the function exited early ({status})"));
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err("the runtime API emulator stopped".into());
            }
        }
    }
}

fn describe_failure(observation: Observation) -> String {
    let text = |body: &[u8]| String::from_utf8_lossy(body).into_owned();
    match observation {
        Observation::Polled { .. } => "polled again before answering".into(),
        Observation::Responded { request_id, .. } => {
            format!("answered an unknown request {request_id}")
        }
        Observation::InvocationFailed {
            request_id,
            error_type,
            body,
        } => format!(
            "invocation {request_id} failed ({error_type}): {}",
            text(&body)
        ),
        Observation::InitFailed { error_type, body } => {
            format!("initialisation failed ({error_type}): {}", text(&body))
        }
    }
}

/// `VmHWM` from `/proc/<pid>/status`, in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Nearest-rank percentile of sorted values.
fn percentile<T: Copy>(sorted: &[T], fraction: f64) -> T {
    let rank = (fraction * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Median (nearest rank), p90 and min of a series, formatted by `show`.
fn row<T: Copy + Ord>(label: &str, mut values: Vec<T>, show: impl Fn(T) -> String) -> String {
    values.sort_unstable();
    format!(
        "{label:<24}{:>12}{:>12}{:>12}",
        show(percentile(&values, 0.5)),
        show(percentile(&values, 0.9)),
        show(values[0]),
    )
}

fn millis(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

fn mebibytes(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn report(options: &Options, samples: &[Sample]) {
    let size = fs::metadata(&options.binary).map(|meta| meta.len()).ok();
    let mut statuses: Vec<String> = Vec::new();
    for sample in samples {
        let status = sample
            .status
            .map_or_else(|| "no statusCode".to_owned(), |code| code.to_string());
        if !statuses.contains(&status) {
            statuses.push(status);
        }
    }
    println!(
        "{} ({}): {} runs after {} warm-up run(s); binary {}; first invocation answered {}",
        options.name,
        options.binary.display(),
        samples.len(),
        options.warmup,
        size.map_or_else(
            || "size unknown".to_owned(),
            |bytes| format!("{bytes} bytes")
        ),
        statuses.join(", ")
    );
    println!("{:<24}{:>12}{:>12}{:>12}", "", "median", "p90", "min");
    println!(
        "{}",
        row(
            "exec -> first poll",
            samples.iter().map(|s| s.init).collect(),
            millis
        )
    );
    println!(
        "{}",
        row(
            "exec -> first response",
            samples.iter().map(|s| s.first_response).collect(),
            millis
        )
    );
    println!(
        "{}",
        row(
            "first invocation",
            samples
                .iter()
                .map(|s| s.first_response.saturating_sub(s.init))
                .collect(),
            millis
        )
    );
    let rss: Vec<u64> = samples.iter().filter_map(|s| s.peak_rss_kib).collect();
    if rss.is_empty() {
        println!("peak RSS (VmHWM)        not available");
    } else {
        println!("{}", row("peak RSS (VmHWM)", rss, mebibytes));
    }
}

fn main() -> ExitCode {
    let options = match parse_options(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let event = Arc::new(options.event.clone());

    let mut samples = Vec::with_capacity(options.runs);
    for run in 0..options.warmup + options.runs {
        match run_once(&options, &event, run) {
            Ok(sample) if run >= options.warmup => samples.push(sample),
            Ok(_) => {}
            Err(problem) => {
                eprintln!(
                    "run {} of {}: {problem}\nlast lines of the function's output ({}):\n{}",
                    run + 1,
                    options.warmup + options.runs,
                    options.log.display(),
                    tail(&options.log, 20)
                );
                return ExitCode::FAILURE;
            }
        }
    }
    report(&options, &samples);
    ExitCode::SUCCESS
}
