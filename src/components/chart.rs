//! A small line chart drawn as SVG, rendered with the page (no chart library), with the same
//! numbers as a table for screen readers and anyone who prefers them.

use leptos::prelude::*;

/// One point: its label on the x axis (a date), what it is (a topic), and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub label: String,
    pub detail: String,
    pub value: Option<f64>,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 36.0;

/// The y range shown: the values' range with some room, or `fixed` when given.
fn range(values: &[f64], fixed: Option<(f64, f64)>) -> (f64, f64) {
    if let Some(fixed) = fixed {
        return fixed;
    }
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !min.is_finite() {
        return (0.0, 1.0);
    }
    let room = ((max - min) * 0.2).max(max.abs() * 0.1).max(1.0);
    ((min - room).max(0.0), max + room)
}

/// Where each point sits in the SVG: (x, y), `None` for a missing value.
pub fn layout(values: &[Option<f64>], fixed: Option<(f64, f64)>) -> Vec<Option<(f64, f64)>> {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    let (low, high) = range(&present, fixed);
    let span = (high - low).max(f64::EPSILON);
    let n = values.len();
    values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let x = if n <= 1 {
                LEFT + (WIDTH - LEFT - RIGHT) / 2.0
            } else {
                LEFT + (WIDTH - LEFT - RIGHT) * i as f64 / (n - 1) as f64
            };
            value.map(|v| {
                let y = TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - (v - low) / span);
                (x, y)
            })
        })
        .collect()
}

#[component]
pub fn LineChart(
    /// Used for ids and the test hook.
    id: &'static str,
    title: &'static str,
    /// What the numbers mean, under the title.
    note: &'static str,
    points: Vec<Point>,
    /// How a value reads (`118 wpm`, `46%`).
    format: fn(f64) -> String,
    /// A fixed y range (0 to 100 for a share).
    #[prop(optional)]
    fixed: Option<(f64, f64)>,
    /// What to say when no session has a value yet.
    #[prop(default = "Nothing to show yet.")]
    empty: &'static str,
) -> impl IntoView {
    let values: Vec<Option<f64>> = points.iter().map(|p| p.value).collect();
    let placed = layout(&values, fixed);
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    let (low, high) = range(&present, fixed);
    // Segments join consecutive points that both have a value.
    let path: String = placed
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let (x, y) = (*p)?;
            let joined = i > 0 && placed[i - 1].is_some();
            Some(format!("{}{x:.1},{y:.1}", if joined { "L" } else { "M" }))
        })
        .collect::<Vec<_>>()
        .join(" ");
    let grid: Vec<(f64, String)> = (0..3)
        .map(|i| {
            let value = low + (high - low) * f64::from(i) / 2.0;
            let y = TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - f64::from(i) / 2.0);
            (y, format(value))
        })
        .collect();
    let first = points.first().map(|p| p.label.clone()).unwrap_or_default();
    let last = points.last().map(|p| p.label.clone()).unwrap_or_default();
    let latest = points
        .iter()
        .rev()
        .find_map(|p| p.value)
        .map_or_else(|| "—".to_owned(), format);
    let heading = format!("chart-{id}");
    view! {
        <section aria-labelledby=heading.clone() class="card p-5" data-testid=format!("chart-{id}")>
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <h2 id=heading.clone() class="text-lg font-semibold">{title}</h2>
                <p class="text-sm text-stone-600">
                    "Latest: "<span class="font-semibold tabular-nums text-stone-900">{latest}</span>
                </p>
            </div>
            <p class="mt-1 text-sm text-stone-600">{note}</p>
            {present.is_empty().then(|| view! {
                <p class="mt-3 rounded-xl bg-stone-100 p-4 text-stone-700" data-testid="chart-empty">
                    {empty}
                </p>
            })}
            <svg
                class:hidden=present.is_empty()
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                class="mt-3 h-auto w-full"
                aria-hidden="true"
                focusable="false"
            >
                {grid
                    .into_iter()
                    .map(|(y, label)| {
                        view! {
                            <line x1=LEFT x2=WIDTH - RIGHT y1=y y2=y class="stroke-stone-200" stroke-width="1" />
                            <text x=LEFT - 8.0 y=y + 4.0 text-anchor="end" class="fill-stone-500 text-[16px]">{label}</text>
                        }
                    })
                    .collect_view()}
                <path d=path fill="none" class="stroke-teal-700" stroke-width="2.5" stroke-linejoin="round" stroke-linecap="round" />
                {placed
                    .iter()
                    .flatten()
                    .map(|(x, y)| {
                        view! { <circle cx=*x cy=*y r="5" class="fill-white stroke-teal-700" stroke-width="2.5" data-testid="chart-point" /> }
                    })
                    .collect_view()}
                <text x=LEFT y=HEIGHT - 8.0 text-anchor="start" class="fill-stone-500 text-[16px]">{first}</text>
                <text x=WIDTH - RIGHT y=HEIGHT - 8.0 text-anchor="end" class="fill-stone-500 text-[16px]">{last}</text>
            </svg>
            <details class="mt-2">
                <summary class="focus-ring cursor-pointer rounded text-sm font-medium text-stone-700">
                    {format!("{title} as a table")}
                </summary>
                <table class="mt-2 w-full text-left text-sm">
                    <thead>
                        <tr class="border-b border-stone-200 text-stone-600">
                            <th scope="col" class="py-1 pr-3 font-medium">"Session"</th>
                            <th scope="col" class="py-1 pr-3 font-medium">"Topic"</th>
                            <th scope="col" class="py-1 font-medium">{title}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {points
                            .into_iter()
                            .map(|p| {
                                view! {
                                    <tr class="border-b border-stone-100">
                                        <td class="py-1 pr-3">{p.label}</td>
                                        <td class="py-1 pr-3">{p.detail}</td>
                                        <td class="py-1 tabular-nums">{p.value.map_or_else(|| "—".to_owned(), format)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </details>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_spread_across_the_width_and_missing_values_leave_gaps() {
        let placed = layout(&[Some(100.0), None, Some(120.0)], None);
        let (x0, y0) = placed[0].unwrap();
        let (x2, y2) = placed[2].unwrap();
        assert_eq!(placed[1], None);
        assert_eq!(x0, LEFT);
        assert_eq!(x2, WIDTH - RIGHT);
        // Higher values sit higher (smaller y).
        assert!(y2 < y0);
    }

    #[test]
    fn one_point_sits_in_the_middle_and_a_fixed_range_is_kept() {
        let placed = layout(&[Some(50.0)], Some((0.0, 100.0)));
        let (x, y) = placed[0].unwrap();
        assert_eq!(x, LEFT + (WIDTH - LEFT - RIGHT) / 2.0);
        assert_eq!(y, TOP + (HEIGHT - TOP - BOTTOM) / 2.0);
    }
}
