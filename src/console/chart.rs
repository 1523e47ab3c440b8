//! Bar charts drawn on the server as inline SVG: horizontal bars, one row
//! per item, with the value written beside each bar so the chart reads
//! without colour; pages put the same figures in a table beside it. Pure.

use std::fmt::Write;

use super::svgmap::esc;

/// One row of a chart: a label and one or two values.
#[derive(Debug, Clone)]
pub struct Row {
    /// What the row is (a ward, a year).
    pub label: String,
    /// The first value and its text.
    pub a: (f64, String),
    /// An optional second value and its text (drawn lighter under the first).
    pub b: Option<(f64, String)>,
}

const WIDTH: f64 = 720.0;
const LABEL_W: f64 = 250.0;
const VALUE_W: f64 = 110.0;
const BAR_H: f64 = 20.0;

/// Horizontal bars of `rows`; `series` names the values (for the legend
/// and screen readers).
pub fn bars(title: &str, rows: &[Row], series: (&str, Option<&str>)) -> String {
    let paired = rows.iter().any(|r| r.b.is_some());
    let row_h = if paired {
        BAR_H * 2.0 + 12.0
    } else {
        BAR_H + 10.0
    };
    let legend_h = if paired { 26.0 } else { 0.0 };
    let height = legend_h + row_h * rows.len().max(1) as f64 + 8.0;
    let max = rows
        .iter()
        .flat_map(|r| std::iter::once(r.a.0).chain(r.b.as_ref().map(|b| b.0)))
        .fold(0.0, f64::max);
    let span = WIDTH - LABEL_W - VALUE_W;
    let len = |v: f64| {
        if max > 0.0 {
            (v / max * span).max(0.0)
        } else {
            0.0
        }
    };
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {WIDTH} {height:.0}\" role=\"img\" \
         aria-label=\"{}\"><title>{}</title>",
        esc(title),
        esc(title)
    );
    if paired {
        let _ = write!(
            out,
            "<rect class=\"bar\" x=\"{LABEL_W}\" y=\"4\" width=\"14\" height=\"14\"/><text x=\"{:.0}\" y=\"16\">{}</text>\
             <rect class=\"bar alt\" x=\"{:.0}\" y=\"4\" width=\"14\" height=\"14\"/><text x=\"{:.0}\" y=\"16\">{}</text>",
            LABEL_W + 20.0,
            esc(series.0),
            LABEL_W + 180.0,
            LABEL_W + 200.0,
            esc(series.1.unwrap_or(""))
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let y = legend_h + i as f64 * row_h + 4.0;
        let _ = write!(
            out,
            "<text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LABEL_W - 8.0,
            y + BAR_H * 0.75,
            esc(&r.label)
        );
        let _ = write!(
            out,
            "<rect class=\"bar\" x=\"{LABEL_W}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{BAR_H}\"><title>{}: {}</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            len(r.a.0),
            esc(&r.label),
            esc(&r.a.1),
            LABEL_W + len(r.a.0) + 6.0,
            y + BAR_H * 0.75,
            esc(&r.a.1)
        );
        if let Some((v, text)) = &r.b {
            let y2 = y + BAR_H + 2.0;
            let _ = write!(
                out,
                "<rect class=\"bar alt\" x=\"{LABEL_W}\" y=\"{y2:.1}\" width=\"{:.1}\" height=\"{BAR_H}\"><title>{}: {}</title></rect>\
                 <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                len(*v),
                esc(&r.label),
                esc(text),
                LABEL_W + len(*v) + 6.0,
                y2 + BAR_H * 0.75,
                esc(text)
            );
        }
    }
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{LABEL_W}\" y1=\"{legend_h}\" x2=\"{LABEL_W}\" y2=\"{:.0}\"/></svg>",
        height - 4.0
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(label: &str, a: f64) -> Row {
        Row {
            label: label.into(),
            a: (a, format!("£{a:.2}")),
            b: None,
        }
    }

    #[test]
    fn the_longest_bar_is_the_largest_value_and_bars_are_proportional() {
        let svg = bars(
            "Subsidy by ward",
            &[row("A", 50.0), row("B", 100.0)],
            ("Subsidy", None),
        );
        let span = WIDTH - LABEL_W - VALUE_W;
        assert!(svg.contains(&format!("width=\"{:.1}\"", span)));
        assert!(svg.contains(&format!("width=\"{:.1}\"", span / 2.0)));
        assert!(svg.contains("£100.00") && svg.contains("£50.00"));
    }

    #[test]
    fn nothing_paid_draws_no_bar_and_labels_are_escaped() {
        let svg = bars("<x>", &[row("Hale & Altrincham", 0.0)], ("Subsidy", None));
        assert!(svg.contains("width=\"0.0\""));
        assert!(svg.contains("Hale &amp; Altrincham") && svg.contains("&lt;x&gt;"));
    }
}
