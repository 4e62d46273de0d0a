//! A small strict parser of the Prometheus text exposition format (0.0.4), used to check that
//! `Metrics::render` is valid: names, labels, escapes, HELP/TYPE before samples, one family per
//! name, histogram buckets cumulative and ending in `+Inf` equal to `_count`.
//!
//! Shared by the crate's unit tests (`#[path]`) and the integration tests.

// Used from two crates (the library's unit tests and the integration tests): `pub` is its
// interface in both.
#![allow(unreachable_pub)]
#![allow(dead_code)]

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

#[derive(Debug)]
pub struct Family {
    pub name: String,
    pub kind: String,
    pub samples: Vec<Sample>,
}

fn valid_metric_name(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn valid_label_name(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with("__")
}

fn parse_value(s: &str) -> Result<f64, String> {
    match s {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => s
            .parse::<f64>()
            .map_err(|e| format!("bad value {s:?}: {e}")),
    }
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line
        .find(['{', ' '])
        .ok_or_else(|| format!("no value: {line:?}"))?;
    let name = &line[..name_end];
    if !valid_metric_name(name) {
        return Err(format!("bad metric name {name:?}"));
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(r) = rest.strip_prefix('{') {
        let mut chars = r.char_indices().peekable();
        loop {
            // label name
            let start = chars.peek().map(|c| c.0).ok_or("unterminated labels")?;
            let eq = r[start..].find('=').ok_or("label without =")? + start;
            let lname = &r[start..eq];
            if !valid_label_name(lname) {
                return Err(format!("bad label name {lname:?}"));
            }
            if labels.iter().any(|(n, _)| n == lname) {
                return Err(format!("duplicate label {lname:?}"));
            }
            while chars.peek().is_some_and(|c| c.0 <= eq) {
                chars.next();
            }
            if chars.next().map(|c| c.1) != Some('"') {
                return Err("label value not quoted".into());
            }
            let mut value = String::new();
            loop {
                match chars.next().ok_or("unterminated label value")?.1 {
                    '"' => break,
                    '\n' => return Err("raw newline in label value".into()),
                    '\\' => match chars.next().ok_or("dangling escape")?.1 {
                        '\\' => value.push('\\'),
                        '"' => value.push('"'),
                        'n' => value.push('\n'),
                        c => return Err(format!("bad escape \\{c}")),
                    },
                    c => value.push(c),
                }
            }
            labels.push((lname.to_owned(), value));
            match chars.next().ok_or("unterminated labels")? {
                (_, ',') => {}
                (i, '}') => {
                    rest = &r[i + 1..];
                    break;
                }
                (_, c) => return Err(format!("unexpected {c:?} after label")),
            }
        }
    }
    let value = rest
        .strip_prefix(' ')
        .ok_or_else(|| format!("no space before value: {line:?}"))?;
    if value.contains(' ') {
        return Err(format!("unexpected timestamp or junk: {line:?}"));
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value: parse_value(value)?,
    })
}

pub fn parse(text: &str) -> Result<Vec<Family>, String> {
    if !text.ends_with('\n') {
        return Err("does not end with a newline".into());
    }
    let mut families: Vec<Family> = Vec::new();
    let mut helped: Option<String> = None;
    let mut seen = std::collections::HashSet::new();
    for line in text.lines() {
        if line.is_empty() {
            return Err("empty line".into());
        }
        if let Some(h) = line.strip_prefix("# HELP ") {
            let (name, help) = h.split_once(' ').ok_or("HELP without text")?;
            if !valid_metric_name(name) {
                return Err(format!("bad name in HELP {name:?}"));
            }
            let mut cs = help.chars();
            while let Some(c) = cs.next() {
                if c == '\\' && !matches!(cs.next(), Some('\\' | 'n')) {
                    return Err("bad escape in HELP".into());
                }
            }
            helped = Some(name.to_owned());
        } else if let Some(t) = line.strip_prefix("# TYPE ") {
            let (name, kind) = t.split_once(' ').ok_or("TYPE without type")?;
            if helped.as_deref() != Some(name) {
                return Err(format!("TYPE {name} without its HELP right before"));
            }
            if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                return Err(format!("bad type {kind}"));
            }
            if families.iter().any(|f| f.name == name) {
                return Err(format!("family {name} declared twice"));
            }
            families.push(Family {
                name: name.to_owned(),
                kind: kind.to_owned(),
                samples: Vec::new(),
            });
            helped = None;
        } else if line.starts_with('#') {
            return Err(format!("unexpected comment {line:?}"));
        } else {
            let s = parse_sample(line)?;
            let fam = families.last_mut().ok_or("sample before any TYPE")?;
            let ok = match fam.kind.as_str() {
                "histogram" => [
                    format!("{}_bucket", fam.name),
                    format!("{}_sum", fam.name),
                    format!("{}_count", fam.name),
                ]
                .contains(&s.name),
                _ => s.name == fam.name,
            };
            if !ok {
                return Err(format!("sample {} outside its family {}", s.name, fam.name));
            }
            let mut id = s.labels.clone();
            id.sort();
            if !seen.insert((s.name.clone(), id)) {
                return Err(format!("duplicate series {line:?}"));
            }
            fam.samples.push(s);
        }
    }
    for f in &families {
        check_family(f)?;
    }
    Ok(families)
}

/// Buckets `(le, count)`, sum and count of one histogram series.
type HistGroup = (Vec<(f64, f64)>, Option<f64>, Option<f64>);

fn check_family(f: &Family) -> Result<(), String> {
    match f.kind.as_str() {
        "counter" => {
            if !f.name.ends_with("_total") {
                return Err(format!("counter {} does not end in _total", f.name));
            }
            if let Some(s) = f.samples.iter().find(|s| s.value.is_nan() || s.value < 0.0) {
                return Err(format!("negative counter {s:?}"));
            }
        }
        "histogram" => {
            let mut groups: BTreeMap<Vec<(String, String)>, HistGroup> = BTreeMap::new();
            for s in &f.samples {
                let mut base: Vec<_> = s.labels.iter().filter(|l| l.0 != "le").cloned().collect();
                base.sort();
                let g = groups.entry(base).or_default();
                if s.name.ends_with("_bucket") {
                    let le = s
                        .labels
                        .iter()
                        .find(|l| l.0 == "le")
                        .ok_or("bucket without le")?;
                    g.0.push((parse_value(&le.1)?, s.value));
                } else if s.name.ends_with("_sum") {
                    g.1 = Some(s.value);
                } else {
                    g.2 = Some(s.value);
                }
            }
            for (labels, (buckets, sum, count)) in groups {
                let count = count.ok_or(format!("no _count for {labels:?}"))?;
                sum.ok_or(format!("no _sum for {labels:?}"))?;
                if buckets.last().map(|b| b.0) != Some(f64::INFINITY) {
                    return Err(format!("last bucket is not +Inf for {labels:?}"));
                }
                for w in buckets.windows(2) {
                    if w[0].0.partial_cmp(&w[1].0) != Some(std::cmp::Ordering::Less) {
                        return Err("le not increasing".into());
                    }
                    if w[0].1 > w[1].1 {
                        return Err("bucket counts not cumulative".into());
                    }
                }
                if buckets.last().map(|b| b.1) != Some(count) {
                    return Err("+Inf bucket != _count".into());
                }
            }
        }
        _ => {}
    }
    Ok(())
}

pub fn value(fams: &[Family], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    fams.iter().flat_map(|f| &f.samples).find_map(|s| {
        (s.name == name
            && labels
                .iter()
                .all(|(n, v)| s.labels.iter().any(|l| l.0 == *n && l.1 == *v)))
        .then_some(s.value)
    })
}
