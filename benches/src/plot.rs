//! A small SVG line-chart writer for the scale curves: a logarithmic x axis
//! (the number of aggregates), a linear or logarithmic y axis, one polyline
//! per series, labelled axes and a legend. No dependencies: the charts are
//! plain text the benchmark writes next to `BENCHMARKS.md`.

use std::fmt::Write as _;

/// Width and height of the whole picture, in SVG user units (pixels).
const WIDTH: f64 = 820.0;
const HEIGHT: f64 = 440.0;
/// The plot area inside the picture: the rest holds the title, the axis
/// labels and the legend (on the right).
const LEFT: f64 = 80.0;
const RIGHT: f64 = 540.0;
const TOP: f64 = 44.0;
const BOTTOM: f64 = 380.0;

/// Line colours, by [`Series::color`] (distinguishable in colour and in
/// grey).
const PALETTE: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
];

/// One line of a chart.
#[derive(Clone, Debug)]
pub struct Series {
    /// The legend's text.
    pub label: String,
    /// (x, y) points, in order of x. Points that the axes cannot show (not
    /// finite, or not positive on a logarithmic axis) are left out.
    pub points: Vec<(f64, f64)>,
    /// Index into the palette (wraps around).
    pub color: usize,
    /// A dashed line (the hand-written baselines).
    pub dashed: bool,
}

/// A line chart with a logarithmic x axis.
#[derive(Clone, Debug)]
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// A logarithmic y axis (for values spanning several decades).
    pub log_y: bool,
    pub series: Vec<Series>,
}

/// One axis: how a value maps to a position and where the ticks go.
struct Axis {
    log: bool,
    /// The range shown, in axis units (log10 of the value on a log axis).
    low: f64,
    high: f64,
    /// Tick values (not axis units).
    ticks: Vec<f64>,
}

impl Axis {
    /// The axis covering `values`.
    fn new(values: &[f64], log: bool) -> Axis {
        let (min, max) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        if !min.is_finite() {
            // Nothing to show: an axis of one decade (or 0–1).
            return if log {
                Axis {
                    log,
                    low: 0.0,
                    high: 1.0,
                    ticks: vec![1.0, 10.0],
                }
            } else {
                Axis {
                    log,
                    low: 0.0,
                    high: 1.0,
                    ticks: vec![0.0, 0.5, 1.0],
                }
            };
        }
        if log {
            let low = min.log10().floor();
            let high = max.log10().ceil().max(low + 1.0);
            let ticks = (low as i32..=high as i32).map(|e| 10f64.powi(e)).collect();
            Axis {
                log,
                low,
                high,
                ticks,
            }
        } else {
            // From 0 (or the minimum, if negative) to a round number above
            // the maximum, in steps of 1, 2 or 5 × a power of ten.
            let low = min.min(0.0);
            let span = (max - low).max(f64::MIN_POSITIVE);
            let raw = span / 5.0;
            let power = 10f64.powf(raw.log10().floor());
            let step = [1.0, 2.0, 5.0, 10.0]
                .into_iter()
                .map(|m| m * power)
                .find(|s| span / s <= 6.0)
                .unwrap_or(10.0 * power);
            let low = (low / step).floor() * step;
            let high = (max / step).ceil() * step;
            let high = if high <= low { low + step } else { high };
            let count = ((high - low) / step).round() as usize;
            let ticks = (0..=count).map(|i| low + step * i as f64).collect();
            Axis {
                log,
                low,
                high,
                ticks,
            }
        }
    }

    /// Whether the axis can show `v`.
    fn shows(&self, v: f64) -> bool {
        v.is_finite() && (!self.log || v > 0.0)
    }

    /// `v` as a fraction of the axis, 0 at `low`, 1 at `high`.
    fn fraction(&self, v: f64) -> f64 {
        let u = if self.log { v.log10() } else { v };
        (u - self.low) / (self.high - self.low)
    }
}

/// `s` with the characters XML gives a meaning escaped.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// A tick label: `1`, `10`, `1k`, `2.5M`, `0.5`.
pub fn short_number(v: f64) -> String {
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let text = if scaled == scaled.round() || scaled.abs() >= 10.0 {
        format!("{scaled:.0}")
    } else if scaled.abs() >= 0.1 {
        format!("{scaled:.1}")
    } else {
        format!("{scaled:.2}")
    };
    format!("{text}{suffix}")
}

impl Chart {
    /// The chart as a standalone SVG document.
    pub fn to_svg(&self) -> String {
        let xs: Vec<f64> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .filter(|x| x.is_finite() && *x > 0.0)
            .collect();
        let x_axis = Axis::new(&xs, true);
        let ys: Vec<f64> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().filter(|p| x_axis.shows(p.0)).map(|p| p.1))
            .filter(|y| y.is_finite() && (!self.log_y || *y > 0.0))
            .collect();
        let y_axis = Axis::new(&ys, self.log_y);
        let px = |x: f64| LEFT + x_axis.fraction(x) * (RIGHT - LEFT);
        let py = |y: f64| BOTTOM - y_axis.fraction(y) * (BOTTOM - TOP);

        let mut out = String::new();
        let _ = writeln!(
            out,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">
<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="white"/>
<text x="{}" y="24" font-size="15" text-anchor="middle">{}</text>"#,
            (LEFT + RIGHT) / 2.0,
            escape(&self.title)
        );
        // Grid lines and tick labels.
        for &t in &x_axis.ticks {
            let x = px(t);
            let _ = writeln!(
                out,
                r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{BOTTOM}" stroke="#dddddd"/>
<text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"##,
                BOTTOM + 18.0,
                escape(&short_number(t))
            );
        }
        for &t in &y_axis.ticks {
            let y = py(t);
            let _ = writeln!(
                out,
                r##"<line x1="{LEFT}" y1="{y:.1}" x2="{RIGHT}" y2="{y:.1}" stroke="#dddddd"/>
<text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
                LEFT - 6.0,
                y + 4.0,
                escape(&short_number(t))
            );
        }
        // The axes and their labels.
        let _ = writeln!(
            out,
            r##"<line x1="{LEFT}" y1="{BOTTOM}" x2="{RIGHT}" y2="{BOTTOM}" stroke="black"/>
<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{BOTTOM}" stroke="black"/>
<text x="{}" y="{}" text-anchor="middle">{} (logarithmic)</text>
<text x="18" y="{}" text-anchor="middle" transform="rotate(-90 18 {})">{}{}</text>"##,
            (LEFT + RIGHT) / 2.0,
            BOTTOM + 40.0,
            escape(&self.x_label),
            (TOP + BOTTOM) / 2.0,
            (TOP + BOTTOM) / 2.0,
            escape(&self.y_label),
            if self.log_y { " (logarithmic)" } else { "" }
        );
        // One polyline per series, a dot on each point, and its legend entry.
        for (i, s) in self.series.iter().enumerate() {
            let color = PALETTE[s.color % PALETTE.len()];
            let dash = if s.dashed {
                r#" stroke-dasharray="6 4""#
            } else {
                ""
            };
            let shown: Vec<(f64, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|&(x, y)| x_axis.shows(x) && y_axis.shows(y))
                .map(|(x, y)| (px(x), py(y)))
                .collect();
            let points: Vec<String> = shown
                .iter()
                .map(|(x, y)| format!("{x:.1},{y:.1}"))
                .collect();
            let _ = writeln!(
                out,
                r#"<polyline fill="none" stroke="{color}" stroke-width="2"{dash} points="{}"><title>{}</title></polyline>"#,
                points.join(" "),
                escape(&s.label)
            );
            for (x, y) in &shown {
                let _ = writeln!(
                    out,
                    r#"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="{color}"/>"#
                );
            }
            let ly = TOP + 8.0 + 20.0 * i as f64;
            let _ = writeln!(
                out,
                r#"<line x1="{}" y1="{ly:.1}" x2="{}" y2="{ly:.1}" stroke="{color}" stroke-width="2"{dash}/>
<text x="{}" y="{:.1}">{}</text>"#,
                RIGHT + 16.0,
                RIGHT + 44.0,
                RIGHT + 50.0,
                ly + 4.0,
                escape(&s.label)
            );
        }
        out.push_str("</svg>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks that `svg` is well-formed as far as this writer's output
    /// goes: every tag closed in order, attribute values quoted, no raw `&`
    /// or `<` in text; returns the names of the elements opened.
    fn elements(svg: &str) -> Result<Vec<String>, String> {
        let body = svg
            .strip_prefix(r#"<?xml version="1.0" encoding="UTF-8"?>"#)
            .ok_or("no XML declaration")?;
        let mut open: Vec<String> = Vec::new();
        let mut seen = Vec::new();
        let mut rest = body;
        while let Some(start) = rest.find('<') {
            let text = &rest[..start];
            if text.contains('>') {
                return Err(format!("a stray `>` in text {text:?}"));
            }
            for (i, _) in text.match_indices('&') {
                let entity = &text[i..];
                if !["&amp;", "&lt;", "&gt;", "&quot;"]
                    .iter()
                    .any(|e| entity.starts_with(e))
                {
                    return Err(format!("an unescaped `&` in {text:?}"));
                }
            }
            let end = rest[start..].find('>').ok_or("an unterminated tag")? + start;
            let tag = &rest[start + 1..end];
            if tag.matches('"').count() % 2 != 0 {
                return Err(format!("an unbalanced quote in <{tag}>"));
            }
            if let Some(name) = tag.strip_prefix('/') {
                match open.pop() {
                    Some(o) if o == name => {}
                    other => return Err(format!("</{name}> closes {other:?}")),
                }
            } else {
                let name: String = tag
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect();
                if name.is_empty() {
                    return Err(format!("a tag without a name: <{tag}>"));
                }
                seen.push(name.clone());
                if !tag.ends_with('/') {
                    open.push(name);
                }
            }
            rest = &rest[end + 1..];
        }
        if !open.is_empty() {
            return Err(format!("left open: {open:?}"));
        }
        if !rest.trim().is_empty() {
            return Err(format!("text after the root: {rest:?}"));
        }
        Ok(seen)
    }

    fn chart(log_y: bool) -> Chart {
        let ns = [1.0, 10.0, 100.0, 1_000.0, 10_000.0, 100_000.0];
        Chart {
            title: "Commit time & tracked <aggregates>".to_owned(),
            x_label: "aggregates tracked".to_owned(),
            y_label: "µs".to_owned(),
            log_y,
            series: vec![
                Series {
                    label: "uow, SQLite".to_owned(),
                    points: ns.iter().map(|&n| (n, 50.0 + n * 0.2)).collect(),
                    color: 0,
                    dashed: false,
                },
                Series {
                    label: "sqlx \"hand-written\"".to_owned(),
                    points: ns.iter().map(|&n| (n, 50.0)).collect(),
                    color: 0,
                    dashed: true,
                },
                Series {
                    label: "uow, PostgreSQL (one point off the axis)".to_owned(),
                    points: vec![(0.0, 1.0), (10.0, f64::NAN), (100.0, 300.0)],
                    color: 2,
                    dashed: false,
                },
            ],
        }
    }

    #[test]
    fn the_svg_is_well_formed_with_one_polyline_per_series() {
        for log_y in [false, true] {
            let svg = chart(log_y).to_svg();
            let seen = elements(&svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
            assert_eq!(seen.first().map(String::as_str), Some("svg"));
            assert_eq!(seen.iter().filter(|e| *e == "polyline").count(), 3);
            // The points shown: 6 + 6 + 1 (x = 0 and NaN are left out).
            assert_eq!(seen.iter().filter(|e| *e == "circle").count(), 13);
            assert!(svg.contains("Commit time &amp; tracked &lt;aggregates&gt;"));
            assert!(svg.contains("sqlx &quot;hand-written&quot;"));
            assert!(svg.contains(r#"stroke-dasharray="6 4""#));
        }
    }

    #[test]
    fn points_fall_inside_the_plot_area_and_rise_with_their_values() {
        let svg = chart(true).to_svg();
        let first = svg
            .lines()
            .find(|l| l.starts_with("<polyline"))
            .expect("a polyline");
        let points = first
            .split("points=\"")
            .nth(1)
            .and_then(|p| p.split('"').next())
            .expect("points");
        let coords: Vec<(f64, f64)> = points
            .split(' ')
            .map(|p| {
                let (x, y) = p.split_once(',').expect("x,y");
                (x.parse().expect("x"), y.parse().expect("y"))
            })
            .collect();
        assert_eq!(coords.len(), 6);
        for w in coords.windows(2) {
            // x grows left to right; a larger value is higher up (smaller y).
            assert!(w[1].0 > w[0].0, "{coords:?}");
            assert!(w[1].1 <= w[0].1, "{coords:?}");
        }
        for (x, y) in coords {
            assert!((LEFT..=RIGHT).contains(&x), "{x}");
            assert!((TOP..=BOTTOM).contains(&y), "{y}");
        }
    }

    #[test]
    fn axes_cover_the_values_with_round_ticks() {
        let log = Axis::new(&[3.0, 2_500.0], true);
        assert_eq!(log.ticks, vec![1.0, 10.0, 100.0, 1_000.0, 10_000.0]);
        let linear = Axis::new(&[0.3, 0.94], false);
        assert_eq!(linear.ticks.first(), Some(&0.0));
        assert!(*linear.ticks.last().expect("a tick") >= 0.94);
        assert!(linear.ticks.len() <= 7);
        assert_eq!(short_number(1_000.0), "1k");
        assert_eq!(short_number(2_500_000.0), "2.5M");
        assert_eq!(short_number(0.5), "0.5");
    }
}
