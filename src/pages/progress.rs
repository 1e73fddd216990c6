//! `/progress`: how the learner's speaking moves across sessions — pace, fillers, their share of
//! the talking, different words and the estimated level — as charts read at a glance, each with
//! its numbers as a table.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::{
    api::feedback::get_progress,
    components::{
        chart::{LineChart, Point},
        feedback::ErrorPanel,
    },
    domain::feedback::{Progress, ProgressPoint, one_decimal},
    error::AppError,
};

#[component]
pub fn ProgressPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_progress());
    view! {
        <Title text="Your progress" />
        <div class="mx-auto max-w-4xl">
            <h1 class="text-3xl font-semibold tracking-tight text-stone-900">"Your progress"</h1>
            <p class="mt-2 text-lg text-stone-600">
                "How your speaking changes from session to session. Compare yourself with yourself."
            </p>
            <Transition fallback=|| {
                view! {
                    <div role="status" aria-label="Loading your progress" class="mt-8 grid gap-4 md:grid-cols-2">
                        {(0..4)
                            .map(|_| view! { <div class="h-64 rounded-2xl bg-stone-100 motion-safe:animate-pulse"></div> })
                            .collect_view()}
                    </div>
                }
            }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(progress) => view! { <Charts progress /> }.into_any(),
                        Err(AppError::Unauthorized) => {
                            view! { <Redirect path="/sign-in?next=/progress" /> }.into_any()
                        }
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

fn date(point: &ProgressPoint) -> String {
    point.started_at.format("%-d %b").to_string()
}

fn points(progress: &Progress, value: impl Fn(&ProgressPoint) -> Option<f64>) -> Vec<Point> {
    progress
        .points
        .iter()
        .map(|p| Point {
            label: date(p),
            detail: p.topic_title.clone(),
            value: value(p),
        })
        .collect()
}

/// CEFR levels on a scale for the chart: A1 = 1 … C2 = 6.
const LEVELS: [&str; 6] = ["A1", "A2", "B1", "B2", "C1", "C2"];

fn level_value(level: Option<&str>) -> Option<f64> {
    let index = LEVELS.iter().position(|l| Some(*l) == level)?;
    Some(index as f64 + 1.0)
}

fn level_name(value: f64) -> String {
    let index = (value.round() as usize).clamp(1, LEVELS.len()) - 1;
    LEVELS[index].to_owned()
}

#[component]
fn Charts(progress: Progress) -> impl IntoView {
    let preparing = (progress.preparing > 0).then(|| {
        let n = progress.preparing;
        view! {
            <p role="status" class="mt-6 rounded-xl bg-stone-100 p-4 text-stone-700">
                {if n == 1 {
                    "Feedback on 1 session is being prepared: it will join these charts.".to_owned()
                } else {
                    format!("Feedback on {n} sessions is being prepared: they will join these charts.")
                }}
            </p>
        }
    });
    if progress.points.is_empty() {
        return view! {
            {preparing}
            <section class="mt-8 rounded-2xl border border-dashed border-stone-300 bg-white p-10 text-center" data-testid="progress-empty">
                <h2 class="text-xl font-semibold text-stone-900">"Nothing to chart yet"</h2>
                <p class="mt-2 text-stone-600">
                    "Have a conversation with your coach: after each session you get feedback on \
                     how you spoke, and your progress shows here."
                </p>
                <a
                    href="/topics"
                    class="btn-lg btn-primary mt-6"
                >
                    "Choose a topic"
                </a>
            </section>
        }
        .into_any();
    }
    let count = progress.points.len();
    let latest_level = progress.points.iter().rev().find_map(|p| p.level.clone());
    let pace = points(&progress, |p| p.pace_wpm);
    let fillers = points(&progress, |p| p.fillers_per_100_words);
    let share = points(&progress, |p| p.learner_share.map(|s| s * 100.0));
    let words = points(&progress, |p| Some(f64::from(p.distinct_words)));
    let levels = points(&progress, |p| level_value(p.level.as_deref()));
    view! {
        {preparing}
        <p class="mt-6 text-stone-700" data-testid="progress-summary">
            {if count == 1 {
                "1 session with feedback so far. Each new one adds a point.".to_owned()
            } else {
                format!("Your last {count} sessions with feedback, oldest first.")
            }}
            {latest_level.map(|level| format!(" Latest estimated level: {level}."))}
        </p>
        <div class="mt-6 grid gap-4 md:grid-cols-2">
            <LineChart
                id="pace"
                title="Pace"
                note="Words a minute while you spoke (approximate)."
                points=pace
                format=|v| format!("{} wpm", v.round())
            />
            <LineChart
                id="fillers"
                title="Fillers per 100 words"
                note="“um”, “uh”, “you know”… Fewer usually sounds more fluent."
                points=fillers
                format=one_decimal
            />
            <LineChart
                id="share"
                title="Your share of the talking"
                note="How much of the conversation was you."
                points=share
                format=|v| format!("{}%", v.round())
                fixed=(0.0, 100.0)
            />
            <LineChart
                id="words"
                title="Different words"
                note="How many different words you used in the session."
                points=words
                format=|v| format!("{}", v.round())
            />
            <LineChart
                id="level"
                title="Estimated level (CEFR)"
                note="Estimated when you said about 75 words or more."
                points=levels
                format=level_name
                fixed=(1.0, 6.0)
                empty="No level estimated yet: it takes about 75 of your words in one session."
            />
        </div>
        <p class="mt-8">
            <a href="/history" class="link">
                "See every session in your history"
            </a>
        </p>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_to_a_scale_and_back() {
        assert_eq!(level_value(Some("A1")), Some(1.0));
        assert_eq!(level_value(Some("C2")), Some(6.0));
        assert_eq!(level_value(Some("Z9")), None);
        assert_eq!(level_value(None), None);
        assert_eq!(level_name(3.0), "B1");
        assert_eq!(level_name(3.4), "B1");
        assert_eq!(level_name(0.0), "A1");
    }
}
