//! HDR histograms in nanoseconds, their summaries, and Markdown tables.

use hdrhistogram::Histogram;
use serde::Serialize;

/// A histogram of nanoseconds from 100 ns to 100 s, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(100, 100_000_000_000, 3).expect("valid histogram bounds")
}

/// Records a duration (saturating at the bounds).
pub fn record(h: &mut Histogram<u64>, d: std::time::Duration) {
    h.saturating_record((d.as_nanos() as u64).max(100));
}

/// Percentiles of a latency histogram, in microseconds.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Quantiles {
    /// Samples.
    pub n: u64,
    /// Mean.
    pub mean_us: f64,
    /// Median.
    pub p50_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// 99.9th percentile.
    pub p999_us: f64,
    /// Largest sample.
    pub max_us: f64,
}

impl Quantiles {
    /// The summary of `h`.
    pub fn of(h: &Histogram<u64>) -> Quantiles {
        if h.is_empty() {
            return Quantiles::default();
        }
        let us = |ns: u64| ns as f64 / 1000.0;
        Quantiles {
            n: h.len(),
            mean_us: h.mean() / 1000.0,
            p50_us: us(h.value_at_quantile(0.50)),
            p99_us: us(h.value_at_quantile(0.99)),
            p999_us: us(h.value_at_quantile(0.999)),
            max_us: us(h.max()),
        }
    }
}

/// A Markdown table under construction.
pub struct Table {
    head: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new<S: Into<String>>(head: impl IntoIterator<Item = S>) -> Table {
        Table {
            head: head.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (cells as already formatted text).
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// The table as GitHub Markdown.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
        s.push_str(&line(&self.head));
        let sep: Vec<String> = self
            .head
            .iter()
            .enumerate()
            .map(|(i, _)| if i == 0 { "---".into() } else { "---:".into() })
            .collect();
        s.push_str(&line(&sep));
        for r in &self.rows {
            s.push_str(&line(r));
        }
        s
    }
}

/// `12.3`-style number with `digits` decimals.
pub fn num(v: f64, digits: usize) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    format!("{v:.digits$}")
}

/// A signed difference, `+1.2` / `−0.4`.
pub fn signed(v: f64, digits: usize) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    if v < 0.0 {
        format!("−{:.digits$}", -v)
    } else {
        format!("+{v:.digits$}")
    }
}

/// A ratio, `1.03×`.
pub fn ratio(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    format!("{v:.2}×")
}

/// An integer with thousands separators, `12,345`.
pub fn thousands(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
