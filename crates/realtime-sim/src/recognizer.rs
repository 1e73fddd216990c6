//! The simulator's ears: the learner's audio kept at 16 kHz, and a long-lived speech recognizer
//! process (Whisper tiny.en through faster-whisper, `recognizer/recognizer.py`) that transcribes
//! each learner turn, as OpenAI's `gpt-4o-mini-transcribe` does for a real session.
//!
//! The recognizer is a sidecar of the simulator only (development and tests; production uses
//! OpenAI). It is loaded once and answers one utterance at a time. No utterance waits or takes
//! longer than its bound: past it, the utterance fails (`...transcription.failed`) and a
//! recognizer that hung is killed and started again. One that cannot start three times in a row
//! is given up on, and the simulator goes back to placeholder transcripts.

use std::{
    collections::VecDeque,
    path::{Path, PathBuf},
    process::Stdio,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines},
    process::{Child, ChildStdin, ChildStdout, Command},
    sync::{mpsc, oneshot},
    time::{Instant, timeout},
};

use crate::speech::SAMPLE_RATE;

/// The rate Whisper listens at.
pub const RECOGNIZER_RATE: u32 = 16_000;
const SAMPLES_PER_MS: u64 = RECOGNIZER_RATE as u64 / 1000;
/// The learner audio a call keeps (16 kHz, 16-bit: 1.9 MB): a longer turn is transcribed from its
/// last minute.
const KEPT_MS: u64 = 60_000;
/// How long the model may take to load and warm up.
const START_LIMIT: Duration = Duration::from_secs(60);
/// How long an utterance may wait behind others before it fails.
const QUEUE_LIMIT: Duration = Duration::from_secs(10);
/// Starts in a row that fail before the recognizer is given up on.
const STARTS_BEFORE_GIVING_UP: u32 = 3;
/// Utterances waiting at most (a busy simulator fails the rest at once).
const QUEUE_DEPTH: usize = 64;

/// How long one utterance may take once the recognizer has it: Whisper's time is nearly flat up
/// to its 30 s window (~0.7 s here), so a generous constant plus a little per second of audio.
pub fn processing_limit(samples: usize) -> Duration {
    let audio_ms = samples as u64 / SAMPLES_PER_MS;
    Duration::from_millis(5_000 + audio_ms / 2)
}

/// Why an utterance has no transcript.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecognizeError {
    #[error("the recognizer is busy: the utterance waited too long")]
    Busy,
    #[error("the recognizer took too long and was restarted")]
    TimedOut,
    #[error("the recognizer stopped and was restarted")]
    Crashed,
    #[error("the recognizer could not be started")]
    Unavailable,
    #[error("the recognizer failed on this utterance: {0}")]
    Engine(String),
}

/// What runs the recognizer: a program and its arguments, speaking the line protocol of
/// `recognizer/recognizer.py`.
#[derive(Debug, Clone)]
pub struct RecognizerCommand {
    pub program: PathBuf,
    pub args: Vec<String>,
}

/// The recognizer script, carried in the binary and run with `python -c`.
const SCRIPT: &str = include_str!("../recognizer/recognizer.py");

impl RecognizerCommand {
    /// The bundled recognizer in a virtual environment that `script/setup` made, or why it cannot
    /// be used.
    pub fn whisper_in(venv: &Path) -> Result<Self, String> {
        let python = venv.join("bin").join("python");
        if !python.is_file() {
            return Err(format!("{} has no bin/python", venv.display()));
        }
        let installed = venv
            .join("lib")
            .read_dir()
            .ok()
            .into_iter()
            .flatten()
            .any(|entry| {
                entry.is_ok_and(|e| e.path().join("site-packages/faster_whisper").is_dir())
            });
        if !installed {
            return Err(format!(
                "faster-whisper is not installed in {}",
                venv.display()
            ));
        }
        Ok(RecognizerCommand {
            program: python,
            args: vec!["-u".into(), "-c".into(), SCRIPT.into()],
        })
    }
}

/// The recognizer `REALTIME_SIM_RECOGNIZER` names: the virtual environment `script/setup` made,
/// `off`, or unset. Says once, at start, when learner turns will get placeholders instead.
pub fn configured(value: Option<&str>) -> Option<RecognizerCommand> {
    match value.map(str::trim) {
        None | Some("") => {
            tracing::info!(
                "sim: no speech recognizer (REALTIME_SIM_RECOGNIZER is unset): learner turns get \
                 a placeholder transcript unless a test queues one"
            );
            None
        }
        Some("off") => {
            tracing::info!(
                "sim: speech recognizer off (REALTIME_SIM_RECOGNIZER=off): learner turns get a \
                 placeholder transcript unless a test queues one"
            );
            None
        }
        Some(venv) => match RecognizerCommand::whisper_in(Path::new(venv)) {
            Ok(command) => Some(command),
            Err(reason) => {
                tracing::warn!(
                    %reason,
                    "sim: speech recognizer not installed (script/setup installs it): learner \
                     turns get a placeholder transcript"
                );
                None
            }
        },
    }
}

struct Job {
    samples: Vec<i16>,
    prompt: Option<String>,
    queued_at: Instant,
    reply: oneshot::Sender<Result<String, RecognizeError>>,
}

/// A handle on the recognizer process. Cheap to clone.
#[derive(Clone)]
pub struct Recognizer {
    jobs: mpsc::Sender<Job>,
    state: Arc<State>,
}

#[derive(Default)]
struct State {
    given_up: AtomicBool,
    recognized: AtomicU64,
    failures: AtomicU64,
    restarts: AtomicU64,
}

impl Recognizer {
    /// Starts the recognizer in the background (the model loads while the app starts). Needs a
    /// Tokio runtime.
    pub fn start(command: RecognizerCommand) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE_DEPTH);
        let state = Arc::new(State::default());
        tokio::spawn(run(command, queue, state.clone()));
        Recognizer { jobs, state }
    }

    /// False once the recognizer could not be started, repeatedly: learner turns then get the
    /// placeholder again.
    pub fn available(&self) -> bool {
        !self.state.given_up.load(Ordering::Relaxed)
    }

    /// How many times the recognizer was started again after it hung or stopped.
    pub fn restarts(&self) -> u64 {
        self.state.restarts.load(Ordering::Relaxed)
    }

    /// Utterances transcribed, utterances failed, restarts.
    pub fn counts(&self) -> (u64, u64, u64) {
        let state = &self.state;
        (
            state.recognized.load(Ordering::Relaxed),
            state.failures.load(Ordering::Relaxed),
            state.restarts.load(Ordering::Relaxed),
        )
    }

    /// Transcribes 16 kHz mono audio; the answer comes on the receiver when it is ready.
    pub fn transcribe(
        &self,
        samples: Vec<i16>,
        prompt: Option<String>,
    ) -> oneshot::Receiver<Result<String, RecognizeError>> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            samples,
            prompt,
            queued_at: Instant::now(),
            reply,
        };
        if let Err(refused) = self.jobs.try_send(job) {
            let job = match refused {
                mpsc::error::TrySendError::Full(job) | mpsc::error::TrySendError::Closed(job) => {
                    job
                }
            };
            self.state.failures.fetch_add(1, Ordering::Relaxed);
            let _ = job.reply.send(Err(RecognizeError::Busy));
        }
        answer
    }
}

/// The running process: its input, and its answers line by line.
struct Process {
    child: Child,
    input: ChildStdin,
    answers: Lines<BufReader<ChildStdout>>,
    next_id: u64,
}

impl Process {
    async fn spawn(command: &RecognizerCommand) -> Result<Self, String> {
        let mut child = Command::new(&command.program)
            .args(&command.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // Its own messages (warnings, a traceback) are not ours to log: they could quote
            // nothing of the learner's, but they are noise. Why it failed is told below.
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| format!("cannot run {}: {error}", command.program.display()))?;
        let (Some(input), Some(output)) = (child.stdin.take(), child.stdout.take()) else {
            return Err("its input and output are not pipes".into());
        };
        let mut answers = BufReader::new(output).lines();
        let ready = timeout(START_LIMIT, answers.next_line())
            .await
            .map_err(|_| format!("not ready after {} s", START_LIMIT.as_secs()))?
            .map_err(|error| format!("unreadable: {error}"))?;
        let Some(line) = ready else {
            let status = child.wait().await.map_err(|e| e.to_string())?;
            return Err(format!("it exited before it was ready ({status})"));
        };
        let ready: serde_json::Value =
            serde_json::from_str(&line).map_err(|_| "its first line is not JSON".to_owned())?;
        if ready["ready"] != true {
            return Err("its first line is not {\"ready\": true}".into());
        }
        tracing::info!(
            model = ready["model"].as_str().unwrap_or("?"),
            load_ms = ready["load_ms"].as_u64().unwrap_or(0),
            "sim: speech recognizer ready"
        );
        Ok(Process {
            child,
            input,
            answers,
            next_id: 0,
        })
    }

    async fn ask(&mut self, samples: &[i16], prompt: Option<&str>) -> Result<String, Asked> {
        self.next_id += 1;
        let id = self.next_id;
        let header = serde_json::json!({"id": id, "samples": samples.len(), "prompt": prompt});
        let mut message = Vec::with_capacity(64 + samples.len() * 2);
        message.extend_from_slice(header.to_string().as_bytes());
        message.push(b'\n');
        for sample in samples {
            message.extend_from_slice(&sample.to_le_bytes());
        }
        self.input
            .write_all(&message)
            .await
            .map_err(|_| Asked::Gone)?;
        self.input.flush().await.map_err(|_| Asked::Gone)?;
        let line = self
            .answers
            .next_line()
            .await
            .map_err(|_| Asked::Gone)?
            .ok_or(Asked::Gone)?;
        let answer: serde_json::Value = serde_json::from_str(&line).map_err(|_| Asked::Gone)?;
        if answer["id"].as_u64() != Some(id) {
            return Err(Asked::Gone);
        }
        match (answer["text"].as_str(), answer["error"].as_str()) {
            (Some(text), _) => Ok(text.to_owned()),
            (None, Some(error)) => Err(Asked::Failed(error.to_owned())),
            (None, None) => Err(Asked::Gone),
        }
    }
}

enum Asked {
    /// The process is no longer answering in protocol: start another.
    Gone,
    /// It answered that this utterance failed.
    Failed(String),
}

async fn run(command: RecognizerCommand, mut queue: mpsc::Receiver<Job>, state: Arc<State>) {
    let answer_with = |job: Job, answer: Result<String, RecognizeError>| {
        let counter = if answer.is_ok() {
            &state.recognized
        } else {
            &state.failures
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let _ = job.reply.send(answer);
    };
    let mut process: Option<Process> = None;
    let mut failed_starts = 0;
    loop {
        if process.is_none() && failed_starts < STARTS_BEFORE_GIVING_UP {
            match Process::spawn(&command).await {
                Ok(started) => {
                    process = Some(started);
                    failed_starts = 0;
                }
                Err(reason) => {
                    failed_starts += 1;
                    tracing::warn!(%reason, attempt = failed_starts, "sim: speech recognizer did not start");
                    if failed_starts == STARTS_BEFORE_GIVING_UP {
                        state.given_up.store(true, Ordering::Relaxed);
                        tracing::error!(
                            "sim: speech recognizer given up on; learner turns get placeholder \
                             transcripts (see script/setup)"
                        );
                    }
                }
            }
        }
        let Some(job) = queue.recv().await else {
            return;
        };
        if job.reply.is_closed() {
            continue;
        }
        if job.queued_at.elapsed() > QUEUE_LIMIT {
            answer_with(job, Err(RecognizeError::Busy));
            continue;
        }
        let Some(running) = process.as_mut() else {
            answer_with(job, Err(RecognizeError::Unavailable));
            continue;
        };
        let limit = processing_limit(job.samples.len());
        let answer = match timeout(limit, running.ask(&job.samples, job.prompt.as_deref())).await {
            Ok(Ok(text)) => Ok(text),
            Ok(Err(Asked::Failed(error))) => Err(RecognizeError::Engine(error)),
            Ok(Err(Asked::Gone)) => Err(RecognizeError::Crashed),
            Err(_) => Err(RecognizeError::TimedOut),
        };
        if matches!(
            answer,
            Err(RecognizeError::Crashed | RecognizeError::TimedOut)
        ) {
            tracing::warn!(error = ?answer.as_ref().err(), "sim: speech recognizer restarted");
            if let Some(mut gone) = process.take() {
                let _ = gone.child.kill().await;
            }
            state.restarts.fetch_add(1, Ordering::Relaxed);
        }
        answer_with(job, answer);
    }
}

/// The learner's audio as the recognizer wants it: 48 kHz in, low-passed and decimated to 16 kHz,
/// the last minute kept, addressed by milliseconds since the call's audio began (the voice
/// detection's clock).
pub struct Ears {
    taps: Vec<f32>,
    history: VecDeque<f32>,
    phase: usize,
    kept: VecDeque<i16>,
    /// The 16 kHz sample index of `kept[0]`.
    first: u64,
}

const DECIMATION: usize = (SAMPLE_RATE / RECOGNIZER_RATE) as usize;
const TAPS: usize = 48;

impl Default for Ears {
    fn default() -> Self {
        Self::new()
    }
}

impl Ears {
    pub fn new() -> Self {
        // A windowed-sinc low-pass at 7 kHz (below the new Nyquist of 8 kHz), Blackman window.
        let cutoff = 7_000.0 / SAMPLE_RATE as f32;
        let middle = (TAPS - 1) as f32 / 2.0;
        let mut taps: Vec<f32> = (0..TAPS)
            .map(|n| {
                let x = n as f32 - middle;
                let sinc = if x == 0.0 {
                    2.0 * cutoff
                } else {
                    (2.0 * std::f32::consts::PI * cutoff * x).sin() / (std::f32::consts::PI * x)
                };
                let w = 2.0 * std::f32::consts::PI * n as f32 / (TAPS - 1) as f32;
                sinc * (0.42 - 0.5 * w.cos() + 0.08 * (2.0 * w).cos())
            })
            .collect();
        let sum: f32 = taps.iter().sum();
        taps.iter_mut().for_each(|t| *t /= sum);
        Ears {
            taps,
            history: VecDeque::from(vec![0.0; TAPS]),
            phase: 0,
            kept: VecDeque::new(),
            first: 0,
        }
    }

    /// Takes decoded 48 kHz mono audio.
    pub fn hear(&mut self, pcm: &[f32]) {
        for &sample in pcm {
            self.history.pop_front();
            self.history.push_back(sample);
            self.phase += 1;
            if self.phase < DECIMATION {
                continue;
            }
            self.phase = 0;
            let filtered: f32 = self
                .history
                .iter()
                .zip(&self.taps)
                .map(|(s, t)| s * t)
                .sum();
            self.kept
                .push_back((filtered.clamp(-1.0, 1.0) * 32767.0) as i16);
        }
        let most = (KEPT_MS * SAMPLES_PER_MS) as usize;
        if self.kept.len() > most {
            let drop = self.kept.len() - most;
            self.kept.drain(..drop);
            self.first += drop as u64;
        }
    }

    /// The audio from `from_ms` to `to_ms` (what is still kept of it).
    pub fn span(&self, from_ms: u64, to_ms: u64) -> Vec<i16> {
        let start = (from_ms * SAMPLES_PER_MS).max(self.first);
        let end = (to_ms * SAMPLES_PER_MS).min(self.first + self.kept.len() as u64);
        if end <= start {
            return Vec::new();
        }
        self.kept
            .range((start - self.first) as usize..(end - self.first) as usize)
            .copied()
            .collect()
    }
}

/// What the tests run instead of Whisper.
#[cfg(test)]
pub(crate) mod testing {
    use super::RecognizerCommand;

    /// A stand-in recognizer in the system Python, speaking the protocol: it answers with the
    /// number of samples it got, or (by prompt) hangs, exits or reports a failure.
    pub(crate) fn fake() -> RecognizerCommand {
        let script = r#"
import json, sys, time
print(json.dumps({"ready": True, "model": "fake", "load_ms": 0}), flush=True)
while True:
    line = sys.stdin.buffer.readline()
    if not line:
        break
    header = json.loads(line)
    sys.stdin.buffer.read(header["samples"] * 2)
    prompt = header.get("prompt")
    if prompt == "hang":
        time.sleep(3600)
    if prompt == "exit":
        sys.exit(3)
    if prompt == "fail":
        print(json.dumps({"id": header["id"], "error": "RuntimeError"}), flush=True)
        continue
    print(json.dumps({"id": header["id"], "text": f"{header['samples']} samples"}), flush=True)
"#;
        RecognizerCommand {
            program: "python3".into(),
            args: vec!["-u".into(), "-c".into(), script.into()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{testing::fake, *};

    fn tone(hz: f32, ms: u64) -> Vec<f32> {
        (0..(ms * 48) as usize)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * hz * i as f32 / 48_000.0).sin())
            .collect()
    }

    fn rms(samples: &[i16]) -> f32 {
        let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
        ((sum / samples.len() as f64).sqrt() / 32768.0) as f32
    }

    #[test]
    fn ears_keep_speech_band_audio_at_16_khz_addressed_by_milliseconds() {
        let mut ears = Ears::new();
        ears.hear(&tone(440.0, 500));
        ears.hear(&vec![0.0; 48 * 500]);
        ears.hear(&tone(12_000.0, 500));
        let voice = ears.span(100, 400);
        assert_eq!(voice.len(), 300 * 16);
        // A 440 Hz tone passes (RMS of a 0.5 sine is 0.35)...
        assert!((rms(&voice) - 0.354).abs() < 0.02, "{}", rms(&voice));
        // ...silence is silence, and 12 kHz (above the new Nyquist) is filtered out, not
        // folded back into the speech band.
        assert!(rms(&ears.span(600, 900)) < 0.001);
        assert!(
            rms(&ears.span(1_100, 1_400)) < 0.01,
            "{}",
            rms(&ears.span(1_100, 1_400))
        );
        // Past the end there is nothing.
        assert!(ears.span(1_500, 2_000).is_empty());
    }

    #[test]
    fn ears_keep_only_the_last_minute() {
        let mut ears = Ears::new();
        for _ in 0..70 {
            ears.hear(&tone(300.0, 1_000));
        }
        assert!(ears.span(0, 5_000).is_empty());
        assert_eq!(ears.span(10_000, 11_000).len(), 16_000);
        assert_eq!(ears.span(69_000, 80_000).len(), 16_000);
    }

    async fn ask(recognizer: &Recognizer, prompt: Option<&str>) -> Result<String, RecognizeError> {
        recognizer
            .transcribe(vec![0; 1_600], prompt.map(str::to_owned))
            .await
            .unwrap_or(Err(RecognizeError::Crashed))
    }

    #[tokio::test]
    async fn a_hang_or_a_crash_fails_that_utterance_and_the_next_one_is_heard() {
        let recognizer = Recognizer::start(fake());
        assert_eq!(ask(&recognizer, None).await, Ok("1600 samples".into()));
        assert_eq!(
            ask(&recognizer, Some("fail")).await,
            Err(RecognizeError::Engine("RuntimeError".into()))
        );
        assert_eq!(
            recognizer.restarts(),
            0,
            "a failed utterance is not a dead recognizer"
        );
        assert_eq!(
            ask(&recognizer, Some("exit")).await,
            Err(RecognizeError::Crashed)
        );
        assert_eq!(ask(&recognizer, None).await, Ok("1600 samples".into()));
        let started = std::time::Instant::now();
        assert_eq!(
            ask(&recognizer, Some("hang")).await,
            Err(RecognizeError::TimedOut)
        );
        let waited = started.elapsed();
        assert!(
            waited >= processing_limit(1_600) && waited < Duration::from_secs(8),
            "{waited:?}"
        );
        assert_eq!(ask(&recognizer, None).await, Ok("1600 samples".into()));
        assert_eq!(recognizer.restarts(), 2);
        assert!(recognizer.available());
    }

    #[tokio::test]
    async fn a_recognizer_that_cannot_start_is_given_up_on() {
        let recognizer = Recognizer::start(RecognizerCommand {
            program: "/nonexistent/python".into(),
            args: vec![],
        });
        assert_eq!(
            ask(&recognizer, None).await,
            Err(RecognizeError::Unavailable)
        );
        for _ in 0..3 {
            let _ = ask(&recognizer, None).await;
        }
        assert!(!recognizer.available());
    }

    #[test]
    fn a_venv_without_the_recognizer_is_refused_with_the_reason() {
        let error = RecognizerCommand::whisper_in(Path::new("/nonexistent")).unwrap_err();
        assert!(error.contains("bin/python"), "{error}");
    }
}
