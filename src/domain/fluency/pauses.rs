//! Long silent pauses inside the learner's turns, found in the recording's loudness.

use crate::domain::feedback::{LONG_PAUSE_MS, Pauses};

/// Long silent pauses inside `spans`, from the recording's loudness: `levels` holds one value in
/// dBFS per `frame_ms` of audio from the start. A frame is silent when it is nearer the
/// recording's noise floor than the span's speech level; only pauses between speech count (not
/// silence at a span's edges). Spans with no clear speech in them are skipped.
pub fn pauses_in(levels: &[f32], frame_ms: u64, spans: &[(u64, u64)]) -> Pauses {
    let mut sorted: Vec<f32> = levels.iter().copied().filter(|l| l.is_finite()).collect();
    sorted.sort_by(f32::total_cmp);
    let floor = percentile(&sorted, 0.10).unwrap_or(-90.0).max(-90.0);
    let mut pauses = Pauses {
        count: 0,
        longest_ms: 0,
        measured_ms: 0,
    };
    if frame_ms == 0 {
        return pauses;
    }
    for &(from, to) in spans {
        let first = usize::try_from(from / frame_ms).unwrap_or(usize::MAX);
        let last = usize::try_from(to.div_ceil(frame_ms))
            .unwrap_or(usize::MAX)
            .min(levels.len());
        if first >= last {
            continue;
        }
        let span = &levels[first..last];
        let mut in_span: Vec<f32> = span.iter().copied().filter(|l| l.is_finite()).collect();
        in_span.sort_by(f32::total_cmp);
        let Some(speech) = percentile(&in_span, 0.90) else {
            continue;
        };
        pauses.measured_ms += (last - first) as u64 * frame_ms;
        if speech - floor < 12.0 {
            continue;
        }
        let threshold = floor + 0.4 * (speech - floor);
        let mut run = 0u64;
        let mut spoke = false;
        for level in span {
            if *level < threshold || !level.is_finite() {
                run += 1;
                continue;
            }
            // Speech again: the silence just ended was a pause if speech came before it too.
            let ms = run * frame_ms;
            if spoke && ms >= LONG_PAUSE_MS {
                pauses.count += 1;
                pauses.longest_ms = pauses.longest_ms.max(ms);
            }
            run = 0;
            spoke = true;
        }
    }
    pauses
}

fn percentile(sorted: &[f32], at: f64) -> Option<f32> {
    if sorted.is_empty() {
        return None;
    }
    let index = ((sorted.len() - 1) as f64 * at).round() as usize;
    sorted.get(index).copied()
}
