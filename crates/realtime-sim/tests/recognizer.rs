//! The simulator's real speech recognizer (Whisper tiny.en in the venv `script/setup` makes) on
//! real speech: espeak-ng's, through the same 48 -> 16 kHz path a call's audio takes.
//! `script/test` points `REALTIME_SIM_RECOGNIZER` at the venv; without it (a bare `cargo test`)
//! this test says it did not run.

use std::path::Path;

use realtime_sim::{
    Recognizer, RecognizerCommand,
    recognizer::Ears,
    speech::{self, SAMPLE_RATE},
};

fn spoken(sentence: &str) -> Vec<f32> {
    let wav = std::process::Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "150", "--stdout", sentence])
        .output()
        .expect("espeak-ng runs");
    let (rate, samples) = speech::parse_wav(&wav.stdout).unwrap();
    speech::resample(&samples, rate, SAMPLE_RATE)
}

#[tokio::test]
async fn whisper_hears_what_was_said_and_keeps_the_learners_error() {
    let Some(venv) = std::env::var("REALTIME_SIM_RECOGNIZER")
        .ok()
        .filter(|v| !v.is_empty() && v != "off")
    else {
        eprintln!("not run: REALTIME_SIM_RECOGNIZER names no recognizer (script/test sets it)");
        return;
    };
    let command =
        RecognizerCommand::whisper_in(Path::new(&venv)).expect("the recognizer is installed");
    let recognizer = Recognizer::start(command);
    let mut ears = Ears::new();
    let pcm = spoken("She don't like coffee, but her brother drinks it every morning.");
    let ms = pcm.len() as u64 * 1000 / u64::from(SAMPLE_RATE);
    ears.hear(&pcm);
    let text = recognizer
        .transcribe(ears.span(0, ms), None)
        .await
        .unwrap()
        .expect("transcribed");
    let lower = text.to_lowercase();
    assert!(lower.contains("she don't like coffee"), "{text}");
    assert!(lower.contains("every morning"), "{text}");
    // Silence is no words (Whisper's habit of inventing "Thank you." is not taken as speech).
    let mut quiet = Ears::new();
    quiet.hear(&vec![0.0; 48_000 * 2]);
    let nothing = recognizer
        .transcribe(quiet.span(0, 2_000), None)
        .await
        .unwrap();
    assert_eq!(nothing.as_deref().map(str::trim), Ok(""));
    assert_eq!(recognizer.counts(), (2, 0, 0));
}
