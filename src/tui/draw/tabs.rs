//! The queue tabs: a number, the queue's name and its open and overdue counts, shortened as
//! the window narrows so that the counts always show.

use ratatui::text::{Line, Span};

use crate::domain::text::{display_width, sanitize_line};
use crate::tui::app::App;
use crate::tui::state::Queues;

/// How the queue tabs are labelled, from the widest to the narrowest; the first that fits is
/// drawn, so the open and overdue counts show at 80 columns in both languages.
const TAB_STYLES: [TabStyle; 5] = [
    TabStyle::new(Some(false), false, 3),
    TabStyle::new(Some(true), false, 2),
    TabStyle::new(Some(false), true, 2),
    TabStyle::new(Some(true), true, 2),
    TabStyle::new(None, true, 2),
];

#[derive(Clone, Copy)]
struct TabStyle {
    /// The queue's name: `Some(short)`, or none (the number and the counts only).
    name: Option<bool>,
    short_counts: bool,
    gap: usize,
}

impl TabStyle {
    const fn new(name: Option<bool>, short_counts: bool, gap: usize) -> TabStyle {
        TabStyle {
            name,
            short_counts,
            gap,
        }
    }
}

fn tab_labels(app: &App, q: &Queues, style: TabStyle) -> Vec<String> {
    q.tabs
        .iter()
        .enumerate()
        .map(|(i, queue)| {
            let mut label = (i + 1).to_string();
            if let Some(short) = style.name {
                let key = format!(
                    "queue-{}{}",
                    queue.as_str(),
                    if short { "-short" } else { "" }
                );
                label.push(' ');
                label.push_str(&app.t(&key));
            }
            match q.badges.iter().find(|b| b.queue == *queue) {
                Some(b) if b.overdue > 0 => {
                    let key = if style.short_counts {
                        "tab-counts-overdue-short"
                    } else {
                        "tab-counts-overdue"
                    };
                    label.push(' ');
                    label.push_str(&app.ta(
                        key,
                        &[("open", b.open.into()), ("overdue", b.overdue.into())],
                    ));
                }
                Some(b) => {
                    label.push(' ');
                    label.push_str(&app.ta("tab-counts", &[("open", b.open.into())]));
                }
                None => {}
            }
            label
        })
        .collect()
}

pub(super) fn tabs_line(app: &App, q: &Queues, width: usize) -> Line<'static> {
    let theme = app.settings.theme;
    let fits = |labels: &[String], gap: usize| {
        let used: usize = labels
            .iter()
            .map(|l| display_width(&sanitize_line(l)))
            .sum();
        1 + used + gap * labels.len().saturating_sub(1) <= width
    };
    let (labels, gap) = TAB_STYLES
        .iter()
        .map(|&style| (tab_labels(app, q, style), style.gap))
        .find(|(labels, gap)| fits(labels, *gap))
        .unwrap_or_else(|| {
            let narrowest = TAB_STYLES[TAB_STYLES.len() - 1];
            (tab_labels(app, q, narrowest), narrowest.gap)
        });
    let mut v = vec![Span::raw(" ")];
    for (i, label) in labels.into_iter().enumerate() {
        if i > 0 {
            v.push(Span::raw(" ".repeat(gap)));
        }
        let style = if i == q.active {
            theme.tab_active()
        } else {
            theme.tab()
        };
        v.push(Span::styled(label, style));
    }
    Line::from(v)
}
