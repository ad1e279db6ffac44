//! `coldstart <binary>`: starts a Lambda function binary against a local Runtime API emulator
//! again and again and reports how long it takes to become ready, to answer its first event, and
//! (with `--invocations`) to answer the events after it in the same process.
//!
//! Each run execs the binary with the environment Lambda sets, then measures exec -> first
//! `/invocation/next` poll (initialisation) and exec -> the first invocation's response (a cold
//! request as a client sees it, minus the network). The invocations after the first are warm:
//! each is timed from the poll that hands it out to its response, which is what Lambda bills as
//! its duration. The peak RSS is read once the last response is in (Lambda's "Max Memory Used"
//! is the same high-water mark), and the process is killed. The CPU time the process used (its
//! threads' `schedstat`) is read at the first poll, the first response and the last one: Lambda
//! gives a function CPU in proportion to its memory, so a model of its duration needs to know
//! how much of the wall time was computing and how much waiting. `--json` writes the summary in a
//! form other tools read (the capacity model, `infra/capacity/`).

mod runtime_api;

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use runtime_api::{Invocation, Observation, RuntimeApi};

const USAGE: &str = "\
usage: coldstart <binary> [--runs N] [--warmup N] [--invocations N] [--event FILE ...]
                 [--env K=V ...] [--name FUNCTION] [--timeout SECONDS] [--log FILE]
                 [--json FILE] [--responses FILE]

  --runs N          measured runs (default 20, at most 10000)
  --warmup N        runs before the measured ones, not counted (default 1): they bring the binary
                    and its libraries into the page cache, which Lambda's own cache also does
  --invocations N   invocations per run (default 1, at most 10000): the first is cold, the
                    others warm, timed from the poll that hands each out to its response
  --event FILE      JSON event (default: {}); repeatable: the invocations of all runs, warm-up
                    runs included, take the files in turn, starting again after the last, so
                    that writes which must differ (a new idempotency key, another booking) can
  --env K=V         extra variable for the function (repeatable); overrides the defaults
  --name FUNCTION   AWS_LAMBDA_FUNCTION_NAME (default: the binary's file name)
  --timeout SECONDS per invocation; a run may take this times --invocations (default 10)
  --log FILE        where the function's stdout and stderr go (default: a file in the temp dir)
  --json FILE       also write the summary to FILE as JSON
  --responses FILE  write every response body, one JSON line per invocation, to FILE";

const MAX_RUNS: usize = 10_000;
/// The fractions of a series the summary reports, by name.
const QUANTILES: [(&str, f64); 2] = [("median", 0.5), ("p90", 0.9)];
/// How often a run checks whether the function exited while it waits for an observation.
const EXIT_CHECK: Duration = Duration::from_millis(20);

#[derive(Debug)]
struct Options {
    binary: PathBuf,
    runs: usize,
    warmup: usize,
    invocations: usize,
    events: Vec<Arc<Vec<u8>>>,
    env: Vec<(String, String)>,
    name: String,
    timeout: Duration,
    log: PathBuf,
    json: Option<PathBuf>,
    responses: Option<PathBuf>,
}

fn parse_options(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut binary = None;
    let mut runs = 20;
    let mut warmup = 1;
    let mut invocations = 1;
    let mut events = Vec::new();
    let mut env = Vec::new();
    let mut name = None;
    let mut timeout = Duration::from_secs(10);
    let mut log = None;
    let mut json = None;
    let mut responses = None;

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
            "--invocations" => invocations = count("--invocations", value("--invocations")?)?,
            "--event" => {
                let path = value("--event")?;
                let event =
                    fs::read(&path).map_err(|error| format!("cannot read {path}: {error}"))?;
                serde_json::from_slice::<serde_json::Value>(&event)
                    .map_err(|error| format!("{path} is not JSON: {error}"))?;
                events.push(Arc::new(event));
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
            "--json" => json = Some(PathBuf::from(value("--json")?)),
            "--responses" => responses = Some(PathBuf::from(value("--responses")?)),
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
    if invocations == 0 {
        return Err("--invocations must be at least 1".into());
    }
    if events.is_empty() {
        events.push(Arc::new(b"{}".to_vec()));
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
        invocations,
        events,
        env,
        name,
        timeout,
        log,
        json,
        responses,
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
    /// Poll to response of each invocation after the first.
    warm: Vec<Duration>,
    /// CPU time used until the first poll, during the first invocation, and per warm one.
    init_cpu: Option<Duration>,
    first_cpu: Option<Duration>,
    warm_cpu: Option<Duration>,
    /// Bytes the function wrote to its log (stdout and stderr) per warm invocation: what
    /// CloudWatch Logs ingests from it, before Lambda's own lines.
    warm_log_bytes: Option<u64>,
    peak_rss_kib: Option<u64>,
    /// What the first response said (see [`outcome`]).
    status: String,
    /// What the warm responses said, in order.
    warm_statuses: Vec<String>,
    /// Every response body, in order.
    bodies: Vec<Vec<u8>>,
}

/// Kills the function when a run ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What a response said, in a word: the `statusCode` of an API Gateway proxy response, the
/// effect of an authorizer's policy, how many messages of an SQS batch failed; "other" for
/// anything else (a schedule's answer).
fn outcome(body: &[u8]) -> String {
    let Ok(response) = serde_json::from_slice::<serde_json::Value>(body) else {
        return "other".into();
    };
    if let Some(status) = response
        .get("statusCode")
        .and_then(serde_json::Value::as_u64)
    {
        return status.to_string();
    }
    if let Some(effect) = response
        .pointer("/policyDocument/Statement/0/Effect")
        .and_then(serde_json::Value::as_str)
    {
        return effect.to_owned();
    }
    if let Some(failures) = response
        .get("batchItemFailures")
        .and_then(serde_json::Value::as_array)
    {
        return format!("{} failed", failures.len());
    }
    "other".into()
}

/// Runs the binary once with `--invocations` invocations; `run` numbers it among all runs, so
/// that every invocation takes its own event in turn.
fn run_once(options: &Options, run: usize) -> Result<Sample, String> {
    // A fresh emulator per run; it closes when this function returns, after the kill.
    let api = RuntimeApi::start()
        .map_err(|error| format!("cannot start the runtime API emulator: {error}"))?;
    let env = lambda_env(options, &api.address().to_string());
    let staged: Vec<Invocation> = (0..options.invocations)
        .map(|index| {
            let global = run * options.invocations + index;
            Invocation {
                request_id: request_id(global),
                event: Arc::clone(&options.events[global % options.events.len()]),
            }
        })
        .collect();
    let request_ids: Vec<String> = staged.iter().map(|i| i.request_id.clone()).collect();
    let arn = format!(
        "arn:aws:lambda:us-east-1:123456789012:function:{}",
        options.name
    );
    let observations = api.stage(staged, arn, options.timeout);
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
    let invocations = u32::try_from(options.invocations).unwrap_or(u32::MAX);
    let deadline = started + options.timeout.saturating_mul(invocations);

    // (poll, response) instants and the body of each invocation.
    let mut answered = Vec::with_capacity(options.invocations);
    // CPU time at the first poll, the first response and the last response.
    let pid = running.0.id();
    let mut cpu = [None; 3];
    let log_size = || fs::metadata(&options.log).map(|meta| meta.len()).ok();
    let mut logged = [None; 2];
    for (index, expected) in request_ids.iter().enumerate() {
        let which = if index == 0 {
            "the first".to_owned()
        } else {
            format!("invocation {}", index + 1)
        };
        let polled = match wait_for(&observations, &mut running, deadline)
            .map_err(|problem| format!("{problem} before the poll of {which}"))?
        {
            Observation::Polled { at, request_id } if &request_id == expected => at,
            other => return Err(describe_failure(other)),
        };
        if index == 0 {
            cpu[0] = cpu_time(pid);
        }
        let (responded, body) =
            match wait_for(&observations, &mut running, deadline).map_err(|problem| {
                format!("{problem} after the poll of {which}, before its response")
            })? {
                Observation::Responded {
                    at,
                    request_id: id,
                    body,
                } if &id == expected => (at, body),
                other => return Err(describe_failure(other)),
            };
        if index == 0 {
            cpu[1] = cpu_time(pid);
            logged[0] = log_size();
        }
        if index + 1 == request_ids.len() {
            cpu[2] = cpu_time(pid);
            logged[1] = log_size();
        }
        answered.push((polled, responded, body));
    }
    // Read before the kill: VmHWM is the high-water mark of resident memory so far.
    let peak_rss_kib = peak_rss_kib(pid);
    drop(running);

    let (init, first_response) = match answered.first() {
        Some((polled, responded, _)) => (
            polled.saturating_duration_since(started),
            responded.saturating_duration_since(started),
        ),
        None => return Err("no invocation was staged".into()),
    };
    Ok(Sample {
        init,
        first_response,
        warm: answered
            .iter()
            .skip(1)
            .map(|(polled, responded, _)| responded.saturating_duration_since(*polled))
            .collect(),
        init_cpu: cpu[0],
        first_cpu: cpu[0].zip(cpu[1]).map(|(from, to)| to.saturating_sub(from)),
        warm_cpu: match (cpu[1], cpu[2], u32::try_from(options.invocations - 1)) {
            (Some(from), Some(to), Ok(warm)) if warm > 0 => Some(to.saturating_sub(from) / warm),
            _ => None,
        },
        warm_log_bytes: match (logged[0], logged[1], options.invocations as u64 - 1) {
            (Some(from), Some(to), warm) if warm > 0 => Some(to.saturating_sub(from) / warm),
            _ => None,
        },
        peak_rss_kib,
        status: outcome(&answered[0].2),
        warm_statuses: answered
            .iter()
            .skip(1)
            .map(|(_, _, body)| outcome(body))
            .collect(),
        bodies: answered.into_iter().map(|(_, _, body)| body).collect(),
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
        Observation::Polled { request_id, .. } => {
            format!("polled again before answering (handed out {request_id})")
        }
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

/// CPU time of every thread of the process so far: the first field of each
/// `/proc/<pid>/task/<tid>/schedstat`, in nanoseconds (finer than the 10 ms ticks of `stat`).
fn cpu_time(pid: u32) -> Option<Duration> {
    let mut total = 0u64;
    for task in fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let path = task.ok()?.path().join("schedstat");
        // A thread that ended between the listing and the read used no more CPU.
        let Ok(text) = fs::read_to_string(path) else {
            continue;
        };
        total += text.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(total))
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

/// Median and p90 (nearest rank) and the minimum of a series; `None` for an empty one.
fn summary<T: Copy + Ord>(mut values: Vec<T>) -> Option<Vec<(&'static str, T)>> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mut figures: Vec<(&'static str, T)> = QUANTILES
        .iter()
        .map(|(name, fraction)| (*name, percentile(&values, *fraction)))
        .collect();
    figures.push(("min", values[0]));
    Some(figures)
}

/// One line of the printed table.
fn row<T: Copy + Ord>(label: &str, values: Vec<T>, show: impl Fn(T) -> String) -> String {
    match summary(values) {
        Some(figures) => {
            let cells: String = figures
                .iter()
                .map(|(_, v)| format!("{:>12}", show(*v)))
                .collect();
            format!("{label:<24}{cells}")
        }
        None => format!("{label:<24}{:>12}", "none"),
    }
}

/// The same series as a JSON object (`{"median": .., "p90": .., "min": ..}`), or null.
fn json_summary<T: Copy + Ord>(values: Vec<T>, number: impl Fn(T) -> f64) -> serde_json::Value {
    summary(values).map_or(serde_json::Value::Null, |figures| {
        figures
            .into_iter()
            .map(|(name, value)| {
                // Three decimals: microseconds for milliseconds, and no float noise in the file.
                let rounded = (number(value) * 1000.0).round() / 1000.0;
                (name.to_owned(), serde_json::json!(rounded))
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    })
}

fn millis(duration: Duration) -> String {
    format!("{:.1} ms", as_millis(duration))
}

fn as_millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn mebibytes(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The distinct outcomes of a series, in the order first seen.
fn distinct_statuses<'a>(statuses: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for status in statuses {
        if !seen.contains(status) {
            seen.push(status.clone());
        }
    }
    seen
}

fn first_statuses(samples: &[Sample]) -> Vec<String> {
    distinct_statuses(samples.iter().map(|s| &s.status))
}

fn warm_statuses(samples: &[Sample]) -> Vec<String> {
    distinct_statuses(samples.iter().flat_map(|s| s.warm_statuses.iter()))
}

fn warm_durations(samples: &[Sample]) -> Vec<Duration> {
    samples
        .iter()
        .flat_map(|s| s.warm.iter().copied())
        .collect()
}

fn report(options: &Options, samples: &[Sample]) {
    let size = fs::metadata(&options.binary).map(|meta| meta.len()).ok();
    println!(
        "{} ({}): {} runs of {} invocation(s) after {} warm-up run(s); binary {}; first invocation answered {}",
        options.name,
        options.binary.display(),
        samples.len(),
        options.invocations,
        options.warmup,
        size.map_or_else(
            || "size unknown".to_owned(),
            |bytes| format!("{bytes} bytes")
        ),
        first_statuses(samples).join(", ")
    );
    if options.invocations > 1 {
        println!(
            "warm invocations answered {}",
            warm_statuses(samples).join(", ")
        );
    }
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
    println!(
        "{}",
        row(
            "CPU until first poll",
            samples.iter().filter_map(|s| s.init_cpu).collect(),
            millis
        )
    );
    println!(
        "{}",
        row(
            "CPU, first invocation",
            samples.iter().filter_map(|s| s.first_cpu).collect(),
            millis
        )
    );
    if options.invocations > 1 {
        println!(
            "{}",
            row("warm invocation", warm_durations(samples), millis)
        );
        println!(
            "{}",
            row(
                "CPU per warm invocation",
                samples.iter().filter_map(|s| s.warm_cpu).collect(),
                millis
            )
        );
    }
    let rss: Vec<u64> = samples.iter().filter_map(|s| s.peak_rss_kib).collect();
    if rss.is_empty() {
        println!("peak RSS (VmHWM)        not available");
    } else {
        println!("{}", row("peak RSS (VmHWM)", rss, mebibytes));
    }
}

/// The summary as JSON: what the capacity model reads (times in milliseconds, memory in MiB).
fn json_report(options: &Options, samples: &[Sample]) -> serde_json::Value {
    let mib = |kib: u64| kib as f64 / 1024.0;
    serde_json::json!({
        "function": options.name,
        "binaryBytes": fs::metadata(&options.binary).map(|meta| meta.len()).ok(),
        "runs": samples.len(),
        "warmupRuns": options.warmup,
        "invocationsPerRun": options.invocations,
        "firstStatuses": first_statuses(samples),
        "warmStatuses": warm_statuses(samples),
        "initMs": json_summary(samples.iter().map(|s| s.init).collect(), as_millis),
        "firstResponseMs": json_summary(samples.iter().map(|s| s.first_response).collect(), as_millis),
        "firstInvocationMs": json_summary(
            samples.iter().map(|s| s.first_response.saturating_sub(s.init)).collect(),
            as_millis,
        ),
        "warmInvocationMs": json_summary(warm_durations(samples), as_millis),
        "initCpuMs": json_summary(samples.iter().filter_map(|s| s.init_cpu).collect(), as_millis),
        "firstInvocationCpuMs": json_summary(
            samples.iter().filter_map(|s| s.first_cpu).collect(),
            as_millis,
        ),
        "warmCpuMs": json_summary(samples.iter().filter_map(|s| s.warm_cpu).collect(), as_millis),
        "warmLogBytes": json_summary(
            samples.iter().filter_map(|s| s.warm_log_bytes).collect(),
            |bytes| bytes as f64,
        ),
        "peakRssMiB": json_summary(samples.iter().filter_map(|s| s.peak_rss_kib).collect(), mib),
    })
}

/// Every response body of every run (warm-up runs included), one JSON line each: tools that seed
/// data through the functions read the ids they answered.
fn write_responses(path: &Path, bodies: &[Vec<u8>]) -> Result<(), String> {
    let mut text = Vec::new();
    for body in bodies {
        // The runtime client posts compact JSON; a line break inside would split a line.
        let value: serde_json::Value = serde_json::from_slice(body)
            .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(body).into()));
        text.extend_from_slice(value.to_string().as_bytes());
        text.push(b'\n');
    }
    fs::write(path, text).map_err(|error| format!("cannot write {}: {error}", path.display()))
}

fn main() -> ExitCode {
    let options = match parse_options(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };

    let mut samples = Vec::with_capacity(options.runs);
    let mut bodies = Vec::new();
    for run in 0..options.warmup + options.runs {
        match run_once(&options, run) {
            Ok(mut sample) => {
                bodies.append(&mut sample.bodies);
                if run >= options.warmup {
                    samples.push(sample);
                }
            }
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
    let written = options
        .responses
        .as_deref()
        .map_or(Ok(()), |path| write_responses(path, &bodies))
        .and_then(|()| {
            options.json.as_deref().map_or(Ok(()), |path| {
                let mut text = serde_json::to_string_pretty(&json_report(&options, &samples))
                    .map_err(|error| format!("cannot encode the summary: {error}"))?;
                text.push('\n');
                fs::write(path, text)
                    .map_err(|error| format!("cannot write {}: {error}", path.display()))
            })
        });
    if let Err(message) = written {
        eprintln!("{message}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        parse_options(args.iter().map(|arg| (*arg).to_owned()))
    }

    fn event_file(name: &str, text: &str) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("coldstart-test-{}-{name}", std::process::id()));
        fs::write(&path, text).expect("write event");
        path
    }

    #[test]
    fn one_invocation_of_an_empty_event_by_default() {
        let options = parse(&["bin/fn"]).expect("parses");
        assert_eq!(options.invocations, 1);
        assert_eq!(options.events, vec![Arc::new(b"{}".to_vec())]);
        assert_eq!(options.json, None);
        assert_eq!(options.responses, None);
    }

    #[test]
    fn events_repeat_in_the_order_given() {
        let first = event_file("first.json", r#"{"n":1}"#);
        let second = event_file("second.json", r#"{"n":2}"#);
        let options = parse(&[
            "bin/fn",
            "--invocations",
            "3",
            "--event",
            first.to_str().unwrap(),
            "--event",
            second.to_str().unwrap(),
            "--json",
            "out.json",
            "--responses",
            "responses.jsonl",
        ])
        .expect("parses");
        assert_eq!(options.invocations, 3);
        let texts: Vec<&[u8]> = options.events.iter().map(|e| e.as_slice()).collect();
        assert_eq!(
            texts,
            vec![br#"{"n":1}"#.as_slice(), br#"{"n":2}"#.as_slice()]
        );
        assert_eq!(options.json, Some(PathBuf::from("out.json")));
        assert_eq!(options.responses, Some(PathBuf::from("responses.jsonl")));
        fs::remove_file(first).ok();
        fs::remove_file(second).ok();
    }

    #[test]
    fn zero_invocations_and_events_that_are_not_json_are_refused() {
        assert!(parse(&["bin/fn", "--invocations", "0"]).is_err());
        assert!(parse(&["bin/fn", "--invocations", "10001"]).is_err());
        let broken = event_file("broken.json", "{not json");
        assert!(parse(&["bin/fn", "--event", broken.to_str().unwrap()]).is_err());
        fs::remove_file(broken).ok();
    }

    #[test]
    fn summaries_are_nearest_rank_and_empty_series_have_none() {
        let figures = summary(vec![5, 1, 4, 2, 3, 10, 9, 8, 7, 6]).expect("not empty");
        assert_eq!(figures, vec![("median", 5), ("p90", 9), ("min", 1)]);
        assert_eq!(summary::<u64>(Vec::new()), None);
        assert_eq!(
            json_summary::<u64>(Vec::new(), |v| v as f64),
            serde_json::Value::Null
        );
        assert_eq!(
            json_summary(vec![Duration::from_micros(1500)], as_millis),
            serde_json::json!({"median": 1.5, "p90": 1.5, "min": 1.5})
        );
    }

    #[test]
    fn cpu_time_of_this_process_is_read_and_grows() {
        let pid = std::process::id();
        let before = cpu_time(pid).expect("schedstat is readable");
        let mut spin = 0u64;
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(20) {
            spin = std::hint::black_box(spin.wrapping_add(1));
        }
        let after = cpu_time(pid).expect("schedstat is readable");
        assert!(after > before, "{before:?} -> {after:?}");
        assert_eq!(cpu_time(u32::MAX), None);
    }

    #[test]
    fn statuses_are_listed_once_in_the_order_seen() {
        let seen: Vec<String> = ["201", "200", "201", "other"].map(String::from).into();
        assert_eq!(distinct_statuses(seen.iter()), vec!["201", "200", "other"]);
        assert_eq!(outcome(br#"{"statusCode":404,"body":""}"#), "404");
        assert_eq!(
            outcome(br#"{"principalId":"u","policyDocument":{"Statement":[{"Effect":"Allow"}]}}"#),
            "Allow"
        );
        assert_eq!(
            outcome(br#"{"batchItemFailures":[{"itemIdentifier":"m"}]}"#),
            "1 failed"
        );
        assert_eq!(outcome(b"null"), "other");
        assert_eq!(outcome(b"not json"), "other");
    }
}
